"""What the actions read out of patients' words, and how long replies are split for SMS."""
import pytest

from actions import templates as t
from actions.base import is_frustrated
from actions.parsing import (
    Details,
    clean,
    find_member_id,
    guess_payer,
    income_period,
    monthly_from_annual,
    parse_choice,
    parse_household,
    parse_money,
    read_details,
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


@pytest.mark.parametrize("text, size", [
    ("family of four", 4), ("household of 3", 3), ("5 people in my house", 5),
    ("me and my 2 kids", 3), ("my wife and our 3 kids", 5), ("me and my husband", 2),
    ("there are 4 of us", 4), ("i live alone", 1),
    # not a household size: an account number and a date sent instead, or a number in a story
    ("A1042 03/14/1985", None), ("A1042 born 3/4/1970", None), ("i owe 4000", None),
])
def test_household_answers_take_only_a_stated_size(text, size):
    assert parse_household(text) == size


@pytest.mark.parametrize("text, expected", [
    ("i make 15k a year, family of four, i cant pay this",
     Details(income_annual=1_500_000, household=4)),
    ("can i do 50 a month", Details(offer_monthly=5000)),
    ("i can pay $75 monthly on the 212 i owe", Details(offer_monthly=7500)),
    ("pay 40 now", Details(amount=4000)),
    ("i bring home 1800 a month and can maybe do 40 a month",
     Details(offer_monthly=4000, income_annual=2_160_000)),
    ("i only get 1200 a month from disability, just me",
     Details(income_annual=1_440_000, household=1)),
    ("uninsured, 18000 a year income, what can i do", Details(income_annual=1_800_000)),
    # numbers that are no amount: a date, a confirmation number, a phone, an account number
    ("I paid $80 on 3/2 conf 88123 and it's not showing", Details()),
    ("call me back at 555-201-3344", Details()),
    ("A1042 03/14/1985", Details()),
])
def test_details_are_read_from_any_message(text, expected):
    assert read_details(text) == expected


def test_an_income_entity_is_read_with_its_period():
    assert read_details("here you go", {"income": "15k a year"}) == Details(
        income_annual=1_500_000)
    assert read_details("about that", {"household_size": "family of 5"}).household == 5


def test_a_monthly_income_answer_is_not_an_offer():
    assert read_details("about 8k a month") == Details()
    assert read_details("$3,200 a month") == Details()
