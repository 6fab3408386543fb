"""Dates of birth written every way patients write them."""
from datetime import date

import pytest

from billing.core.dates import DateParseError, find_date_of_birth, parse_date_of_birth

TODAY = date(2025, 6, 1)
MARCH_14_1985 = date(1985, 3, 14)


@pytest.mark.parametrize(
    "text",
    [
        "03/14/1985", "3/14/85", "3-14-85", "3.14.1985", "March 14 1985", "march 14, 1985",
        "14 march 1985", "14th of March, 1985", "1985-03-14", "mar 14 85", "Mar. 14th 85",
        "my dob is 3/14/85 thanks", "03141985", "19850314", "born on march 14th '85",
        "14/03/1985",
    ],
)
def test_every_common_spelling_of_the_same_birthday(text):
    assert parse_date_of_birth(text, TODAY) == MARCH_14_1985


def test_ambiguous_order_is_month_first():
    assert parse_date_of_birth("04/05/1990", TODAY) == date(1990, 4, 5)


def test_two_digit_years_never_land_in_the_future():
    assert parse_date_of_birth("1/2/07", TODAY) == date(2007, 1, 2)
    assert parse_date_of_birth("1/2/25", TODAY) == date(2025, 1, 2)
    assert parse_date_of_birth("1/2/26", TODAY) == date(1926, 1, 2)


@pytest.mark.parametrize(
    "text", ["", "hello", "13/13/1985", "02/30/1990", "A1000", "2/3/2030", "1/1/1850", "$1,200"]
)
def test_text_without_a_valid_birth_date_is_refused(text):
    assert find_date_of_birth(text, TODAY) is None
    with pytest.raises(DateParseError):
        parse_date_of_birth(text, TODAY)


def test_account_number_next_to_the_date_is_ignored():
    assert find_date_of_birth("A1000 03/14/1985", TODAY) == MARCH_14_1985
