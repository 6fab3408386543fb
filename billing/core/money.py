"""Money in one place: amounts are integer cents; parsing, rounding and formatting live here.

Rounding rule, stated once: ROUND_HALF_UP to the cent.

Cents is a distinct type for the type checker (mypy --strict on billing.core), so a bare int (a
count, a percent, a number of days) is never taken for an amount. Arithmetic on amounts gives a
plain int; cents() says the result is an amount again and total() sums amounts.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, NewType

# A NewType, not an alias of int: mypy then rejects a bare int where an amount is expected (and
# an amount where a count is). At run time Cents(x) is x itself, so callers see plain ints.
Cents = NewType("Cents", int)

ZERO: Final = Cents(0)

ROUNDING = ROUND_HALF_UP

# ASCII digits only; commas only as thousands separators ("12,50" is not $1,250.00).
_AMOUNT = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?", re.ASCII)


class MoneyError(ValueError):
    """An amount that is not a valid amount of money."""


def cents(value: int) -> Cents:
    """An int of integer cents, e.g. a difference or a multiple of amounts, as an amount."""
    return Cents(value)


def total(amounts: Iterable[Cents]) -> Cents:
    """The sum of amounts; ZERO when there are none."""
    return Cents(sum(amounts))


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
    exponent = value.as_tuple().exponent  # an int: value is finite
    if isinstance(exponent, int) and exponent < -2:
        raise MoneyError(f"more than two decimals: {text!r}")
    if value < 0 and not allow_negative:
        raise MoneyError(f"negative amount: {text!r}")
    return Cents(int(value * 100))


def to_cents(value: Decimal) -> Cents:
    """Round a Decimal number of dollars to whole cents (ROUND_HALF_UP)."""
    return Cents(int((value * 100).quantize(Decimal(1), rounding=ROUNDING)))


def round_cents(value: Decimal) -> Cents:
    """Round a Decimal number of cents to whole cents (ROUND_HALF_UP)."""
    return Cents(int(value.quantize(Decimal(1), rounding=ROUNDING)))


def percent_of(cents: Cents, percent: Decimal) -> Cents:
    """percent% of an amount, rounded to the cent."""
    return round_cents(Decimal(cents) * Decimal(percent) / Decimal(100))


def to_decimal(cents: Cents) -> Decimal:
    """Cents as a dollar Decimal with two places, e.g. 1050 -> Decimal("10.50")."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def fmt(cents: Cents) -> str:
    """123456 -> '$1,234.56'; -500 -> '-$5.00'."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}.{frac:02d}"
