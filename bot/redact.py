"""Card numbers never leave the gateway: any run of 13-19 digits (spaces or dashes allowed
between groups) that passes the Luhn check is masked before Rasa, the logs or the database."""
from __future__ import annotations

import re
from dataclasses import dataclass

CARD_MASK = "[card number removed]"
CODE_MASK = "[code removed]"

# Digits with at most one space or dash between them; the run is then cut into candidate
# card numbers along its groups.
_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d)+(?![\d])")
_SECURITY_CODE = re.compile(r"(?i)\b(cvv2?|cvc2?|cid|security code)(\W{0,3})\d{3,4}\b")
_GROUP = re.compile(r"\d+")


@dataclass(frozen=True)
class Redacted:
    text: str
    cards_found: int


def luhn_ok(digits: str) -> bool:
    """True if the digits pass the Luhn checksum, which tells card numbers from other digit runs."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Spans (within run) of card numbers: consecutive groups holding 13-19 digits in all
    that pass Luhn. The longest match from the earliest group wins."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        found = None
        for j in range(len(groups) - 1, i - 1, -1):
            start, end = groups[i][0], groups[j][1]
            digits = re.sub(r"\D", "", run[start:end])
            if 13 <= len(digits) <= 19 and luhn_ok(digits):
                found = (j, (start, end))
                break
        if found:
            spans.append(found[1])
            i = found[0] + 1
        else:
            i += 1
    return spans


def mask_cards(text: str) -> Redacted:
    """The text with every card number (and any security code written next to a label)
    replaced, and how many card numbers were found."""
    if not text:
        return Redacted(text or "", 0)
    out: list[str] = []
    pos = 0
    count = 0
    for m in _RUN.finditer(text):
        run = m.group(0)
        spans = _card_spans(run)
        if not spans:
            continue
        out.append(text[pos:m.start()])
        cursor = 0
        for s, e in spans:
            out.append(run[cursor:s])
            out.append(CARD_MASK)
            cursor = e
            count += 1
        out.append(run[cursor:])
        pos = m.end()
    out.append(text[pos:])
    masked = "".join(out)
    masked = _SECURITY_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{CODE_MASK}", masked)
    return Redacted(masked, count)
