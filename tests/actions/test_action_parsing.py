"""What the actions read out of patients' words, and how long replies are split for SMS."""
import pytest

from actions import templates as t
from actions.base import is_frustrated
from actions.parsing import (
    clean,
    find_member_id,
    guess_payer,
    income_period,
    monthly_from_annual,
    parse_choice,
    parse_household,
    parse_money,
)


@pytest.mark.parametrize("text, cents", [
    ("2k", 200000), ("3,200/month", 320000), ("about $1800.50 a month", 180050),
    ("45000 a year", 4500000), ("I make 2.5k", 250000), ("nothing", None),
])
def test_amounts_as_patients_write_them(text, cents):
    assert parse_money(text) == cents


def test_income_period_and_monthly_rounding():
    assert income_period("3,200/month") == "month"
    assert income_period("45000 a year") == "year"
    assert income_period("3200") is None
    assert monthly_from_annual(1_000_000) == 83333  # 833.333.. rounds half up to the cent


@pytest.mark.parametrize("text, size", [("4", 4), ("four of us", 4), ("just me", 1),
                                        ("we are 30", None), ("lots", None)])
def test_household_sizes(text, size):
    assert parse_household(text) == size


@pytest.mark.parametrize("text, index", [
    ("1", 0), ("option 2", 1), ("the 6 month one", 1), ("second", 1), ("12", 2), ("last", 2),
    ("12 months please", 2), ("9 months", None), ("7", None), ("whatever", None),
])
def test_plan_choices(text, index):
    assert parse_choice(text, [3, 6, 12]) == index


def test_member_id_and_payer_from_one_message():
    text = "my new insurance is Blue Cross, member id XYZ12345"
    member = find_member_id(text)
    assert member == "XYZ12345"
    assert guess_payer(text, member) == "Blue Cross"
    assert guess_payer("it's", None) is None


def test_injected_values_of_any_shape_become_bounded_text():
    assert clean({"$gt": 1}) == "" and clean(["a"]) == "" and clean(True) == ""
    assert clean("x" * 2000) == "x" * 500 and clean(5) == "5"


@pytest.mark.parametrize("text, upset", [
    ("this is ridiculous", True), ("WHY IS MY BILL SO HIGH", True), ("wtf", True),
    ("BAL", False), ("PAY NOW", False), ("what's my balance", False), ("HELP", False),
])
def test_frustration_is_swearing_anger_words_or_shouting(text, upset):
    assert is_frustrated(text) is upset


def test_long_lists_are_split_between_lines_only():
    lines = [f"line {n} " + "x" * 90 for n in range(10)]
    messages = t.chunk(lines, limit=320)
    assert len(messages) > 1 and all(len(m) <= 320 for m in messages)
    assert "\n".join(messages).split("\n") == lines
