"""SMS segmenting: GSM-7 (160 septets alone, 153 per part) or UCS-2 (70 / 67 units).

Long replies are split on word boundaries into parts that each fit one segment.
"""
from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table: sent as an escape plus the character, two septets each.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class Limits:
    single: int  # a message that fits in one segment
    part: int  # each segment of a concatenated message (room lost to the header)


LIMITS = {GSM7: Limits(160, 153), UCS2: Limits(70, 67)}


def encoding(text: str) -> str:
    """GSM7 if every character fits the GSM-7 alphabet, else UCS2 (which fits fewer per SMS)."""
    return GSM7 if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else UCS2


def char_units(c: str, enc: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    if enc == GSM7:
        return 2 if c in GSM7_EXTENSION else 1
    return 2 if ord(c) > 0xFFFF else 1


def units(text: str, enc: str | None = None) -> int:
    """The text's length in encoding units: GSM-7 extension characters such as '€' count twice."""
    enc = enc or encoding(text)
    return sum(char_units(c, enc) for c in text)


def segment_count(text: str) -> int:
    """How many segments the carrier bills for this text sent as one message."""
    enc = encoding(text)
    n = units(text, enc)
    lim = LIMITS[enc]
    if n <= lim.single:
        return 1
    return -(-n // lim.part)


def _hard_split(word: str, enc: str, limit: int) -> list[str]:
    parts, cur, size = [], "", 0
    for c in word:
        u = char_units(c, enc)
        if size + u > limit:
            parts.append(cur)
            cur, size = "", 0
        cur += c
        size += u
    if cur:
        parts.append(cur)
    return parts


def split_segments(text: str) -> list[str]:
    """Split text into parts that each fit in one segment, never breaking a word
    (a single word longer than a segment, such as a long link, is the only exception).

    A text that fits in one message comes back whole. Otherwise each part fits the
    per-part limit (153 / 67), so the parts also fit a concatenated message's segments.
    """
    text = text.strip()
    enc = encoding(text)
    lim = LIMITS[enc]
    if units(text, enc) <= lim.single:
        return [text] if text else []
    limit = lim.part
    parts: list[str] = []
    cur = ""
    for word in text.split(" "):
        if not word:
            continue
        candidate = f"{cur} {word}" if cur else word
        if units(candidate, enc) <= limit:
            cur = candidate
            continue
        if cur:
            parts.append(cur)
        if units(word, enc) <= limit:
            cur = word
        else:
            pieces = _hard_split(word, enc, limit)
            parts.extend(pieces[:-1])
            cur = pieces[-1]
    if cur:
        parts.append(cur)
    return parts
