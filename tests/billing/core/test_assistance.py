"""Financial assistance screening against the 2025 HHS poverty guidelines."""
from __future__ import annotations

from pathlib import Path

import pytest

from billing.core.assistance import (
    AssistancePolicy,
    PovertyTableError,
    load_poverty_table,
    screen,
)

TABLE_PATH = Path(__file__).resolve().parents[3] / "data" / "poverty_guidelines.csv"
POLICY = AssistancePolicy()


@pytest.fixture(scope="module")
def table():
    return load_poverty_table(TABLE_PATH)


@pytest.mark.parametrize("size, line", [
    (1, 1565000), (2, 2115000), (4, 3215000), (8, 5415000), (9, 5965000), (10, 6515000),
])
def test_poverty_line_follows_the_2025_guidelines(table, size, line):
    assert table.poverty_line(size) == line


def test_income_at_twice_poverty_gets_free_care(table):
    s = screen(1, 3130000, table, POLICY)
    assert (s.poverty_line, s.percent_of_poverty, s.tier, s.discount_percent) == (
        1565000, 200, "free", 100)


def test_just_above_free_care_gets_the_discount(table):
    s = screen(1, 3146000, table, POLICY)  # 201.02%
    assert (s.percent_of_poverty, s.tier, s.discount_percent) == (201, "discount", 60)


def test_percent_is_floor_rounded(table):
    assert screen(1, 3144999, table, POLICY).percent_of_poverty == 200  # 200.95%


def test_income_at_four_times_poverty_still_gets_the_discount(table):
    s = screen(4, 12860000, table, POLICY)
    assert (s.percent_of_poverty, s.tier) == (400, "discount")
    assert screen(4, 12900000, table, POLICY).tier == "none"


def test_no_income_is_zero_percent_and_free(table):
    s = screen(3, 0, table, POLICY)
    assert (s.percent_of_poverty, s.tier) == (0, "free")


def test_policy_thresholds_are_configurable(table):
    strict = AssistancePolicy(free_care_max_percent=100, discount_max_percent=250,
                              discount_percent=40)
    s = screen(2, 3172500, table, strict)  # 150%
    assert (s.tier, s.discount_percent) == ("discount", 40)
    assert screen(2, 6000000, table, strict).tier == "none"


@pytest.mark.parametrize("size, income", [(0, 100), (-1, 100), (1, -1)])
def test_impossible_household_or_income_is_refused(table, size, income):
    with pytest.raises(ValueError):
        screen(size, income, table, POLICY)


@pytest.mark.parametrize("body, fragment", [
    ("size,income\n1,100\n", "header"),
    ("household_size,annual_income_cents\n1,abc\neach_additional,5\n", "income"),
    ("household_size,annual_income_cents\n1,100\n3,300\neach_additional,5\n", "gaps"),
    ("household_size,annual_income_cents\n1,100\n", "each_additional"),
    ("household_size,annual_income_cents\nx,100\neach_additional,5\n", "household size"),
    ("household_size,annual_income_cents\n1,100\n1,200\neach_additional,5\n", "twice"),
])
def test_bad_poverty_table_is_refused_with_a_reason(tmp_path, body, fragment):
    path = tmp_path / "p.csv"
    path.write_text(body)
    with pytest.raises(PovertyTableError, match=fragment):
        load_poverty_table(path)
