"""Money in one place: amounts are integer cents; parsing, rounding and formatting live here.

Rounding rule, stated once: ROUND_HALF_UP to the cent.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Cents = int

ROUNDING = ROUND_HALF_UP

# ASCII digits only; commas only as thousands separators ("12,50" is not $1,250.00).
_AMOUNT = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?", re.ASCII)


class MoneyError(ValueError):
    """An amount that is not a valid amount of money."""


def parse_amount(text: str, *, allow_negative: bool = False) -> Cents:
    """'1,234.5' -> 123450. At most two decimals; no exponent, no float."""
    raw = (text or "").strip().replace("$", "").strip()
    if not raw:
        raise MoneyError("amount is empty")
    if not _AMOUNT.fullmatch(raw) or not any(ch.isdigit() for ch in raw):
        raise MoneyError(f"not an amount: {text!r}")
    raw = raw.replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise MoneyError(f"not an amount: {text!r}") from None
    if not value.is_finite() or "e" in raw.lower():
        raise MoneyError(f"not an amount: {text!r}")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise MoneyError(f"more than two decimals: {text!r}")
    if value < 0 and not allow_negative:
        raise MoneyError(f"negative amount: {text!r}")
    return int(value * 100)


def to_cents(value: Decimal) -> Cents:
    """Round a Decimal number of dollars to whole cents (ROUND_HALF_UP)."""
    return int((value * 100).quantize(Decimal(1), rounding=ROUNDING))


def round_cents(value: Decimal) -> Cents:
    """Round a Decimal number of cents to whole cents (ROUND_HALF_UP)."""
    return int(value.quantize(Decimal(1), rounding=ROUNDING))


def percent_of(cents: Cents, percent: Decimal) -> Cents:
    """percent% of an amount, rounded to the cent."""
    return round_cents(Decimal(cents) * Decimal(percent) / Decimal(100))


def to_decimal(cents: Cents) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def fmt(cents: Cents) -> str:
    """123456 -> '$1,234.56'; -500 -> '-$5.00'."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}.{frac:02d}"
