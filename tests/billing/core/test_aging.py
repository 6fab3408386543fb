"""Aging of what patients owe: buckets by days past due, credits taken off the oldest first."""
from __future__ import annotations

from datetime import date

import pytest

from billing.core.aging import BUCKETS, Aging, age_account, bucket_for, practice_aging
from billing.core.balances import compute_balance
from billing.core.ledger import ClaimStatus
from tests.ledger_builders import charge, paid, refund

TODAY = date(2025, 6, 30)
SELF = ClaimStatus.SELF_PAY


@pytest.mark.parametrize("days, bucket", [
    (-5, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
    (61, "61-90"), (90, "61-90"), (91, "91-120"), (120, "91-120"), (121, "120+"), (999, "120+"),
])
def test_bucket_edges(days, bucket):
    assert bucket_for(days) == bucket


def test_each_visit_is_aged_by_its_own_due_date():
    items = [
        charge(10000, claim="A", status=SELF, due=date(2025, 7, 15)),  # not yet due
        charge(20000, claim="B", status=SELF, due=date(2025, 6, 10)),  # 20 days
        charge(30000, claim="C", status=SELF, due=date(2025, 2, 1)),   # 149 days
        charge(5000, claim="D", status=SELF),                          # never billed
    ]
    a = age_account(items, TODAY)
    assert a.buckets == {"current": 15000, "1-30": 20000, "31-60": 0, "61-90": 0,
                         "91-120": 0, "120+": 30000}
    assert a.total == 65000 and a.oldest_days_past_due == 149


def test_unapplied_payment_pays_off_the_oldest_bucket_first():
    items = [
        charge(20000, claim="B", status=SELF, due=date(2025, 6, 10)),
        charge(30000, claim="C", status=SELF, due=date(2025, 4, 1)),  # 90 days
        paid(35000),
    ]
    a = age_account(items, TODAY)
    assert a.buckets["61-90"] == 0 and a.buckets["1-30"] == 15000
    assert a.total == 15000 and a.oldest_days_past_due == 20


def test_pending_insurance_is_not_aged():
    items = [
        charge(40000, claim="P", status=ClaimStatus.PENDING, due=date(2025, 1, 1)),
        charge(1000, claim="S", status=SELF, due=date(2025, 6, 1)),
    ]
    a = age_account(items, TODAY)
    assert a.total == 1000 and a.buckets["1-30"] == 1000


def test_account_in_credit_ages_to_nothing():
    items = [charge(10000, claim="S", status=SELF, due=date(2025, 1, 1)), paid(12000)]
    a = age_account(items, TODAY)
    assert a.total == 0 and a.oldest_days_past_due == 0 and set(a.buckets) == set(BUCKETS)


def test_refund_beyond_credit_is_owed_as_current():
    items = [charge(10000, claim="S", status=SELF, due=date(2025, 1, 1)), paid(10000, "S"),
             refund(500)]
    a = age_account(items, TODAY)
    assert a.buckets["current"] == 500 and a.total == 500


def test_aging_total_equals_balance_due_now():
    items = [
        charge(10000, claim="A", status=SELF, due=date(2025, 3, 1)),
        charge(7000, claim="B", status=ClaimStatus.PENDING),
        paid(3000), paid(2000, "A"),
    ]
    assert age_account(items, TODAY).total == compute_balance(items).due_now == 5000


def test_practice_aging_sums_buckets_and_keeps_the_oldest():
    one = Aging(buckets={**dict.fromkeys(BUCKETS, 0), "1-30": 100}, oldest_days_past_due=12,
                total=100)
    two = Aging(buckets={**dict.fromkeys(BUCKETS, 0), "120+": 50, "1-30": 5},
                oldest_days_past_due=200, total=55)
    p = practice_aging([one, two])
    assert p.buckets["1-30"] == 105 and p.buckets["120+"] == 50
    assert p.total == 155 and p.oldest_days_past_due == 200
    assert practice_aging([]).total == 0
