"""Property tests for the money rules: formatting and parsing round-trip, rounding bounds."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.core.money import MoneyError, fmt, parse_amount, percent_of, to_cents, to_decimal

cents = st.integers(min_value=-10**12, max_value=10**12)


@settings(max_examples=300)
@given(cents)
def test_fmt_then_parse_round_trips(c):
    assert parse_amount(fmt(c), allow_negative=True) == c


@settings(max_examples=300)
@given(cents)
def test_plain_decimal_text_round_trips(c):
    assert parse_amount(str(to_decimal(c)), allow_negative=True) == c
    assert to_cents(to_decimal(c)) == c


@settings(max_examples=300)
@given(st.integers(0, 10**10), st.decimals(min_value=0, max_value=100, places=4))
def test_percent_of_is_within_half_a_cent_and_never_above_the_whole(c, pct):
    exact = Decimal(c) * pct / 100
    got = percent_of(c, pct)
    assert abs(Decimal(got) - exact) <= Decimal("0.5")
    assert 0 <= got <= c


@settings(max_examples=200)
@given(st.text(max_size=12))
def test_parse_amount_either_returns_cents_or_raises_money_error(text):
    try:
        value = parse_amount(text, allow_negative=True)
    except MoneyError:
        return
    assert isinstance(value, int)
    assert parse_amount(fmt(value), allow_negative=True) == value
