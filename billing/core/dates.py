"""Dates of birth as patients type them: 03/14/1985, 3-14-85, March 14 1985, 14 march 1985,
1985-03-14, mar 14 85, and in Spanish 15/03/1975, "15 de marzo de 1975", "marzo 15 1975".
Ambiguous day/month orders are read the way the conversation's language writes them: US
English month first, Spanish day first (DAY_FIRST); a number above 12 settles it either way."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
    # Spanish (accents are removed before matching, see _plain)
    "ene": 1, "enero": 1, "febrero": 2, "marzo": 3, "abr": 4, "abril": 4, "mayo": 5,
    "junio": 6, "julio": 7, "ago": 8, "agosto": 8, "septiembre": 9, "setiembre": 9, "set": 9,
    "octubre": 10, "noviembre": 11, "dic": 12, "diciembre": 12,
}
# Languages whose numeric dates put the day first (03/04/1985 is 3 April).
DAY_FIRST = frozenset({"es"})
OLDEST_AGE_YEARS = 125

_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"('?\d{2}|\d{4})"
_SEP = r"\s*[,/.\-]?\s*"
_OF = r"(?:\s+(?:of|de|del))?"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b"), "ymd"),
    (re.compile(rf"\b(\d{{1,2}})\s*[-/.]\s*(\d{{1,2}})\s*[-/.]\s*{_YEAR}\b"), "num"),
    (re.compile(rf"\b{_MONTH}{_SEP}{_DAY}(?:\s*,)?{_OF}{_SEP}{_YEAR}\b", re.IGNORECASE), "mdy"),
    (re.compile(rf"\b{_DAY}{_OF}{_SEP}{_MONTH}(?:\s*,)?{_OF}{_SEP}{_YEAR}\b", re.IGNORECASE),
     "dmy"),
    (re.compile(r"\b(\d{8})\b"), "compact"),
]


class DateParseError(ValueError):
    """Text that holds no valid date of birth."""


def _year(raw: str, today: date) -> int:
    raw = raw.lstrip("'")
    year = int(raw)
    if len(raw) == 2:
        # A birth date is never in the future: '85 is 1985, '07 is 2007 (until it would be ahead).
        year += 2000 if 2000 + year <= today.year else 1900
    return year


def _build(year: int, month: int, day: int, today: date) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    if value > today or value.year < today.year - OLDEST_AGE_YEARS:
        return None
    return value


def _plain(text: str) -> str:
    """Accents off ('diciembre', 'sábado'), so Spanish month names match however typed."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _from_match(kind: str, groups: tuple[str, ...], today: date,
                day_first: bool = False) -> date | None:
    if kind == "ymd":
        return _build(int(groups[0]), int(groups[1]), int(groups[2]), today)
    if kind == "num":
        first, second, year = int(groups[0]), int(groups[1]), _year(groups[2], today)
        if day_first:
            first, second = second, first
        if first > 12 >= second:  # only a day can exceed 12: 14/03/1985 is day-first
            first, second = second, first
        return _build(year, first, second, today)
    if kind == "mdy":
        return _build(_year(groups[2], today), MONTHS[groups[0].lower()], int(groups[1]), today)
    if kind == "dmy":
        return _build(_year(groups[2], today), MONTHS[groups[1].lower()], int(groups[0]), today)
    digits = groups[0]
    if digits[:2] in ("19", "20"):
        parsed = _build(int(digits[:4]), int(digits[4:6]), int(digits[6:]), today)
        if parsed:
            return parsed
    return _build(int(digits[4:]), int(digits[:2]), int(digits[2:4]), today)


def find_date_of_birth(text: str, today: date, *, day_first: bool = False) -> date | None:
    """The first plausible date of birth written anywhere in text, or None. day_first: read
    an ambiguous 03/04/1985 as 3 April (the conversation's language is in DAY_FIRST)."""
    text = _plain(text or "")
    found: list[tuple[int, date]] = []
    for pattern, kind in _PATTERNS:
        for match in pattern.finditer(text):
            value = _from_match(kind, match.groups(), today, day_first)
            if value is not None:
                found.append((match.start(), value))
                break
    return min(found)[1] if found else None


def parse_date_of_birth(text: str, today: date, *, day_first: bool = False) -> date:
    """The date of birth in text; DateParseError when there is none."""
    value = find_date_of_birth(text, today, day_first=day_first)
    if value is None:
        raise DateParseError("no date of birth found")
    return value
