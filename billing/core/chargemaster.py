"""The practice's price list (chargemaster): loading it, finding a service, estimating its cost.

Loading reads a CSV (the only I/O here); finding and estimating are pure functions.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from billing.core.insurance import Responsibility, patient_responsibility
from billing.core.ledger import CoverageTerms
from billing.core.money import Cents, MoneyError, parse_amount

HEADER = ["cpt_code", "description", "price"]
CPT_CODE = re.compile(r"^[0-9A-Z]{5}$")  # CPT (99213, 0001U) and HCPCS level II (G0008)

# Words of a question that say nothing about which service is meant.
STOPWORDS = frozenset((
    "a", "about", "an", "and", "any", "are", "be", "can", "cost", "costs", "could", "do", "does",
    "estimate", "for", "get", "getting", "have", "how", "i", "if", "in", "is", "it", "me",
    "much", "my", "need", "of", "on", "or", "please", "price", "priced", "quote", "so", "the",
    "to", "what", "whats", "will", "with", "work", "would", "you", "your",
))
# Patients' words for what the price list calls something else.
SYNONYMS = {
    "xray": ("x", "ray"),
    "ecg": ("ekg",),
    "cat": ("ct",),
    "shot": ("vaccine",),
    "bloodwork": ("blood",),
    "lab": ("blood",),
    "checkup": ("checkup",),
    "physical": ("physical",),
    "er": ("emergency",),
}


class ChargemasterError(ValueError):
    """A price list row that cannot be used, with where and why."""

    def __init__(self, file: str, line: int, reason: str):
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line, self.reason = file, line, reason


@dataclass(frozen=True)
class PriceEntry:
    cpt_code: str
    description: str
    price: Cents


@dataclass(frozen=True)
class Estimate:
    entry: PriceEntry
    responsibility: Responsibility


def load_chargemaster(path: str | Path) -> dict[str, PriceEntry]:
    """Read cpt_code,description,price (dollars, e.g. 175.00) rows, keyed by CPT code."""
    name = str(path)
    prices: dict[str, PriceEntry] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if [h.strip() for h in header or []] != HEADER:
            raise ChargemasterError(name, 1, "header must be cpt_code,description,price")
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise ChargemasterError(name, line, f"expected 3 columns, found {len(row)}")
            code, description, price_text = (cell.strip() for cell in row)
            code = code.upper()
            if not CPT_CODE.match(code):
                raise ChargemasterError(name, line, f"not a CPT code: {code!r}")
            if code in prices:
                raise ChargemasterError(name, line, f"CPT code {code} listed twice")
            if not description:
                raise ChargemasterError(name, line, "description is empty")
            try:
                price = parse_amount(price_text)
            except MoneyError as exc:
                raise ChargemasterError(name, line, str(exc)) from None
            if price <= 0:
                raise ChargemasterError(name, line, "price must be more than zero")
            prices[code] = PriceEntry(code, description, price)
    return prices


def _words(text: str) -> list[str]:
    text = re.sub(r"\bx[\s-]?rays?\b", "x ray", text.lower())
    words: list[str] = []
    for w in re.findall(r"[a-z0-9]+", text):
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        words.extend(SYNONYMS.get(w, (w,)))
    return words


def find_service(prices: dict[str, PriceEntry], query: str) -> PriceEntry | None:
    """The price list entry a patient's words name, by CPT code or description words.

    Matching ignores case, punctuation, plurals and filler words ("how much is an MRI").
    An entry must contain at least two thirds of the query's meaningful words; among those,
    the one matching most words wins, then the shortest (most general) description, then
    the lowest CPT code, so the answer is always the same for the same question.
    """
    for token in re.findall(r"[0-9A-Za-z]{5}", query or ""):
        if token.upper() in prices:
            return prices[token.upper()]
    wanted = [w for w in dict.fromkeys(_words(query or "")) if w not in STOPWORDS]
    if not wanted:
        return None
    best: tuple[int, int, str] | None = None
    for code, entry in prices.items():
        have = set(_words(entry.description))
        matched = sum(w in have for w in wanted)
        if matched and matched * 3 >= len(wanted) * 2:
            key = (-matched, len(have), code)
            if best is None or key < best:
                best = key
    return prices[best[2]] if best else None


def estimate(
    prices: dict[str, PriceEntry],
    query: str,
    coverage: CoverageTerms | None,
    service_date: date,
) -> Estimate | None:
    """What a service would cost the patient, or None when no service matches the query.

    The list price stands in for the insurer's allowed amount, so the estimate is an upper
    bound: negotiated rates are usually lower.
    """
    entry = find_service(prices, query)
    if entry is None:
        return None
    return Estimate(entry, patient_responsibility(entry.price, coverage, service_date))
