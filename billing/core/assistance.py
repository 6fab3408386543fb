"""Financial assistance screening: household income as a percent of the HHS poverty guideline.

The guideline table is read from CSV (2025 HHS guidelines, 48 contiguous states); the
screening rule itself is a pure function. Incomes are annual, in integer cents.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from billing.core.money import Cents, cents

EACH_ADDITIONAL = "each_additional"


class PovertyTableError(ValueError):
    """A poverty guideline file that cannot be used, with where and why."""

    def __init__(self, file: str, line: int, reason: str):
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line, self.reason = file, line, reason


@dataclass(frozen=True)
class PovertyTable:
    by_size: dict[int, Cents]  # household sizes 1..n
    each_additional: Cents  # added per person beyond the largest listed size

    def poverty_line(self, household_size: int) -> Cents:
        if household_size < 1:
            raise ValueError("household size must be at least 1")
        largest = max(self.by_size)
        if household_size <= largest:
            return self.by_size[household_size]
        return cents(self.by_size[largest] + (household_size - largest) * self.each_additional)


@dataclass(frozen=True)
class AssistancePolicy:
    free_care_max_percent: int = 200  # at or below: free care
    discount_max_percent: int = 400  # at or below (and above free care): discount
    discount_percent: int = 60


@dataclass(frozen=True)
class Screening:
    household_size: int
    annual_income: Cents
    poverty_line: Cents
    percent_of_poverty: int  # floor-rounded
    tier: str  # "free" | "discount" | "none"
    discount_percent: int  # 100 for free care, 0 for none


def load_poverty_table(path: str | Path) -> PovertyTable:
    """Read household_size,annual_income_cents rows: sizes 1..n and one each_additional row."""
    name = str(path)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["household_size", "annual_income_cents"]:
            raise PovertyTableError(name, 1, "header must be household_size,annual_income_cents")
        by_size: dict[int, Cents] = {}
        additional: Cents | None = None
        for row in reader:
            line = reader.line_num
            size, income = (row.get("household_size") or "").strip(), \
                (row.get("annual_income_cents") or "").strip()
            if not income.isdigit() or int(income) <= 0:
                raise PovertyTableError(name, line, f"income must be positive cents: {income!r}")
            if size == EACH_ADDITIONAL:
                additional = cents(int(income))
            elif size.isdigit() and int(size) >= 1:
                if int(size) in by_size:
                    raise PovertyTableError(name, line, f"household size {size} listed twice")
                by_size[int(size)] = cents(int(income))
            else:
                raise PovertyTableError(name, line, f"bad household size: {size!r}")
    if not by_size or sorted(by_size) != list(range(1, len(by_size) + 1)):
        raise PovertyTableError(name, 0, "household sizes must run 1..n without gaps")
    if additional is None:
        raise PovertyTableError(name, 0, f"missing the {EACH_ADDITIONAL} row")
    return PovertyTable(by_size=by_size, each_additional=additional)


def screen(
    household_size: int, annual_income: Cents, table: PovertyTable, policy: AssistancePolicy
) -> Screening:
    """Place a household in a tier by its income as a floor-rounded percent of poverty.

    The tier is decided on that same floored percent, so the percent a patient is told and
    the tier they get always agree (e.g. 200.9% is stated as 200% and gets free care).
    """
    if annual_income < 0:
        raise ValueError("income cannot be negative")
    line = table.poverty_line(household_size)
    percent = annual_income * 100 // line
    if percent <= policy.free_care_max_percent:
        tier, discount = "free", 100
    elif percent <= policy.discount_max_percent:
        tier, discount = "discount", policy.discount_percent
    else:
        tier, discount = "none", 0
    return Screening(household_size, annual_income, line, percent, tier, discount)
