"""Money parsing, rounding and formatting: hand-checked examples."""
from __future__ import annotations

from decimal import Decimal

import pytest

from billing.core.money import (
    MoneyError,
    fmt,
    parse_amount,
    percent_of,
    round_cents,
    to_cents,
    to_decimal,
)


@pytest.mark.parametrize("text, cents", [
    ("0", 0), ("5", 500), ("5.", 500), (".5", 50), ("12.34", 1234), ("1,234.56", 123456),
    ("$1,234.56", 123456), ("$ 20", 2000), ("  7.10 ", 710), ("1,000,000", 100000000),
    ("+3", 300), ("0.01", 1),
])
def test_parse_amount_accepts_ordinary_ways_of_writing_money(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"), ("   ", "empty"), ("$", "empty"), (None, "empty"),
    ("abc", "not an amount"), ("1e3", "not an amount"), ("nan", "not an amount"),
    ("Infinity", "not an amount"), (".", "not an amount"), ("-", "not an amount"),
    ("12,50", "not an amount"),  # a decimal comma must not become $1,250.00
    ("1,2,3", "not an amount"), ("1_000", "not an amount"), ("\u0665", "not an amount"),
    ("1.234", "more than two decimals"), ("-5", "negative amount"),
    ("-$5.00", "negative amount"),
])
def test_parse_amount_rejects_what_is_not_money(text, fragment):
    with pytest.raises(MoneyError, match=fragment):
        parse_amount(text)


def test_negative_amounts_parse_only_when_allowed():
    assert parse_amount("-$5.00", allow_negative=True) == -500
    assert parse_amount("$-5", allow_negative=True) == -500


@pytest.mark.parametrize("cents, text", [
    (0, "$0.00"), (1, "$0.01"), (500, "$5.00"), (123456, "$1,234.56"),
    (-500, "-$5.00"), (100000000, "$1,000,000.00"),
])
def test_fmt_writes_dollars_with_separators(cents, text):
    assert fmt(cents) == text


def test_rounding_is_half_up_to_the_cent():
    assert round_cents(Decimal("2.5")) == 3
    assert round_cents(Decimal("2.4999")) == 2
    assert round_cents(Decimal("-2.5")) == -3  # half away from zero
    assert to_cents(Decimal("1.005")) == 101
    assert to_cents(Decimal("1.004")) == 100


def test_percent_of_rounds_to_the_cent():
    assert percent_of(1001, Decimal(15)) == 150  # 150.15
    assert percent_of(1010, Decimal(15)) == 152  # 151.5
    assert percent_of(12345, Decimal(0)) == 0
    assert percent_of(12345, Decimal(100)) == 12345
    assert percent_of(3, Decimal("33.3333")) == 1


def test_to_decimal_gives_dollars_with_two_places():
    assert to_decimal(123456) == Decimal("1234.56")
    assert str(to_decimal(5)) == "0.05"
