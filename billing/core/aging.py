"""Accounts-receivable aging: what patients owe, bucketed by how long past due it is.

Pure rules over ledger lines; `today` is passed in.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from billing.core.balances import compute_balance
from billing.core.ledger import LineItem
from billing.core.money import ZERO, Cents, cents, total

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "91-120", "120+")


def bucket_for(days_past_due: int) -> str:
    """0 or fewer days past due (not yet due) is current; 121 and more is 120+."""
    if days_past_due <= 0:
        return "current"
    for upper, name in ((30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days_past_due <= upper:
            return name
    return "120+"


def _empty() -> dict[str, Cents]:
    return dict.fromkeys(BUCKETS, ZERO)


@dataclass(frozen=True)
class Aging:
    buckets: dict[str, Cents] = field(default_factory=_empty)
    oldest_days_past_due: int = 0
    total: Cents = ZERO


def age_account(items: Iterable[LineItem], today: date) -> Aging:
    """Age each visit's remaining patient amount, after allocation, by its due date.

    Amounts pending insurance are not aged (they are not the patient's yet). A visit with no
    due date has not been billed and counts as current, and so does money refunded beyond any
    credit. The aging total is the balance's due_now by construction.
    """
    balance = compute_balance(items)
    buckets = _empty()
    oldest = 0
    for v in balance.visits:
        if v.remaining <= 0:
            continue
        days = max(0, (today - v.due_date).days) if v.due_date else 0
        name = bucket_for(days)
        buckets[name] = cents(buckets[name] + v.remaining)
        oldest = max(oldest, days)
    buckets["current"] = cents(buckets["current"] + balance.refunded_beyond_credit)
    return Aging(buckets=buckets, oldest_days_past_due=oldest, total=total(buckets.values()))


def practice_aging(agings: Iterable[Aging]) -> Aging:
    """Sum account agings into one for the whole practice."""
    buckets = _empty()
    oldest = 0
    for a in agings:
        for name in BUCKETS:
            buckets[name] = cents(buckets[name] + a.buckets.get(name, ZERO))
        oldest = max(oldest, a.oldest_days_past_due)
    return Aging(buckets=buckets, oldest_days_past_due=oldest, total=total(buckets.values()))
