"""Payment plan offers: affordable monthly amounts, terms, and exact installment schedules.

Pure rules (no I/O); amounts are integer cents and the first due date is passed in.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from billing.core.money import ZERO, Cents, cents, percent_of

MAX_OPTIONS = 3
MIN_MONTHLY: Final = cents(2500)  # $25.00


@dataclass(frozen=True)
class PlanPolicy:
    max_income_percent: Decimal = Decimal(5)  # of monthly income, per month
    min_monthly: Cents = MIN_MONTHLY  # smallest installment worth scheduling
    max_months: int = 24
    term_choices: tuple[int, ...] = (3, 6, 12, 18, 24)


@dataclass(frozen=True)
class Installment:
    seq: int  # 1-based
    due_date: date
    amount: Cents


@dataclass(frozen=True)
class PlanOption:
    monthly: Cents  # the largest installment (the first ones carry any extra cent)
    months: int
    installments: tuple[Installment, ...]
    end_date: date


@dataclass(frozen=True)
class PlanOffer:
    balance: Cents
    affordable_monthly: Cents
    options: tuple[PlanOption, ...]
    # Set when there is no option: "no_balance", "exceeds_max_term" (offer financial
    # assistance instead) or "below_minimum" (too small to split; pay it in full).
    reason: str | None


def add_months(start: date, months: int) -> date:
    """The same day of the month `months` later, clamped to that month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def schedule(balance: Cents, months: int, first_due: date) -> tuple[Installment, ...]:
    """Split `balance` into `months` monthly installments that sum exactly to it.

    Cents that do not divide evenly go one each to the earliest installments, so amounts
    differ by at most one cent and never rise over the plan. Due dates fall on the day of
    month of `first_due` (clamped to month end: Jan 31 -> Feb 28 -> Mar 31).
    """
    if months < 1:
        raise ValueError("a plan needs at least one month")
    if balance < 0:
        raise ValueError("a plan cannot schedule a negative balance")
    base, extra = divmod(balance, months)
    return tuple(
        Installment(seq=i + 1, due_date=add_months(first_due, i),
                    amount=cents(base + (i < extra)))
        for i in range(months)
    )


def affordable_monthly(balance: Cents, monthly_income: Cents, policy: PlanPolicy) -> Cents:
    """max_income_percent of income, but at least min_monthly (or the balance, if smaller)."""
    share = percent_of(max(ZERO, monthly_income), policy.max_income_percent)
    return max(share, min(policy.min_monthly, max(ZERO, balance)))


def plan_options(
    balance: Cents, monthly_income: Cents, first_due: date, policy: PlanPolicy
) -> PlanOffer:
    """Up to three plans, fewest months first, whose every installment is affordable.

    A term qualifies when its largest installment is at most the affordable monthly amount
    and its smallest is at least policy.min_monthly. Terms come from policy.term_choices, no
    longer than policy.max_months.
    """
    affordable = affordable_monthly(balance, monthly_income, policy)
    if balance <= 0:
        return PlanOffer(balance, affordable, (), "no_balance")
    terms = sorted(t for t in set(policy.term_choices) if 1 <= t <= policy.max_months)
    fitting = [t for t in terms if -(-balance // t) <= affordable]
    if not fitting:
        return PlanOffer(balance, affordable, (), "exceeds_max_term")
    chosen = [t for t in fitting if balance // t >= policy.min_monthly][:MAX_OPTIONS]
    if not chosen:
        return PlanOffer(balance, affordable, (), "below_minimum")
    options = []
    for months in chosen:
        installments = schedule(balance, months, first_due)
        options.append(
            PlanOption(
                monthly=installments[0].amount,
                months=months,
                installments=installments,
                end_date=installments[-1].due_date,
            )
        )
    return PlanOffer(balance, affordable, tuple(options), None)


@dataclass(frozen=True)
class PlanAtAmount:
    """A plan at the monthly amount the patient offered, or the nearest one the policy allows.

    reason is None when the offer stands as asked; otherwise why it moved: "below_minimum"
    (raised to the least installment), "exceeds_max_term" (raised so the plan ends within
    policy.max_months), "covers_balance" (the offer pays everything at once: no plan needed) or
    "no_balance".
    """

    asked: Cents
    option: PlanOption | None
    reason: str | None


def schedule_at(balance: Cents, monthly: Cents, first_due: date) -> tuple[Installment, ...]:
    """Installments of exactly `monthly` until the last, which carries what is left (never more
    than `monthly`); they sum exactly to `balance`."""
    if monthly <= 0:
        raise ValueError("a monthly amount must be positive")
    if balance <= 0:
        raise ValueError("a plan needs a positive balance")
    months = -(-balance // monthly)
    return tuple(
        Installment(seq=i + 1, due_date=add_months(first_due, i),
                    amount=cents(monthly if i < months - 1 else balance - monthly * (months - 1)))
        for i in range(months)
    )


def plan_at_monthly(balance: Cents, monthly: Cents, first_due: date,
                    policy: PlanPolicy) -> PlanAtAmount:
    """The plan at the offered monthly amount when the policy allows it, else the nearest allowed:
    at least policy.min_monthly, and ending within policy.max_months."""
    if balance <= 0:
        return PlanAtAmount(monthly, None, "no_balance")
    if monthly >= balance:
        return PlanAtAmount(monthly, None, "covers_balance")
    amount, reason = monthly, None
    if amount < policy.min_monthly:
        amount, reason = policy.min_monthly, "below_minimum"
    shortest_allowed = cents(-(-balance // policy.max_months))
    if amount < shortest_allowed:
        amount, reason = shortest_allowed, "exceeds_max_term"
    if amount >= balance:
        return PlanAtAmount(monthly, None, "covers_balance")
    installments = schedule_at(balance, amount, first_due)
    option = PlanOption(monthly=amount, months=len(installments), installments=installments,
                        end_date=installments[-1].due_date)
    return PlanAtAmount(monthly, option, reason)
