"""Account balance rules: totals, per-visit itemisation, pending insurance and credits."""
from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.core.aging import age_account
from billing.core.balances import account_total, compute_balance
from billing.core.ledger import ClaimStatus, EntryType, LineItem
from tests.ledger_builders import charge, ins_adj, ins_paid, paid, pat_adj, refund


def test_empty_ledger_owes_nothing():
    b = compute_balance([])
    assert (b.total, b.due_now, b.pending_insurance, b.credit, b.refunded_beyond_credit) == (
        0,) * 5
    assert b.visits == () and b.due_date is None


def test_adjudicated_visit_leaves_patient_share_due():
    items = [
        charge(25000, claim="CL1", due=date(2025, 5, 1)),
        ins_adj(8000, "CL1"),
        ins_paid(13600, "CL1"),
    ]
    b = compute_balance(items)
    (v,) = b.visits
    assert v.charge == 25000 and v.insurance_paid == 13600 and v.adjustments == 8000
    assert v.allowed == 17000
    assert v.patient_share == 3400 and v.remaining == 3400 and v.pending_insurance == 0
    assert b.total == 3400 and b.due_now == 3400 and b.credit == 0
    assert b.due_date == date(2025, 5, 1)
    assert v.description == "Office visit (99213)"


def test_several_charge_lines_on_one_claim_form_one_visit():
    items = [
        charge(25000, claim="CL1", entry_id="a"),
        charge(6000, claim="CL1", cpt="80053", desc="Blood panel", entry_id="b"),
        ins_paid(20000, "CL1", entry_id="c"),
        paid(1000, "CL1", entry_id="d"),
    ]
    (v,) = compute_balance(items).visits
    assert v.charge == 31000
    assert v.description == "Office visit (99213); Blood panel (80053)"
    assert v.entry_ids == ("a", "b", "c", "d")
    assert v.patient_share == 11000 and v.patient_paid == 1000 and v.remaining == 10000


def test_pending_claim_is_not_due_from_patient():
    items = [
        charge(40000, claim="P1", status=ClaimStatus.PENDING),
        charge(10000, claim="D1", status=ClaimStatus.DENIED, day=date(2025, 2, 1)),
    ]
    b = compute_balance(items)
    assert b.total == 50000
    assert b.pending_insurance == 40000
    assert b.due_now == 10000
    pending = b.visit("P1")
    assert pending.patient_share == 0 and pending.remaining == 0
    assert pending.pending_insurance == 40000
    assert b.visit("D1").remaining == 10000


def test_payment_at_time_of_service_reduces_pending_amount():
    items = [charge(40000, claim="P1", status=ClaimStatus.PENDING), paid(3000, "P1")]
    b = compute_balance(items)
    assert b.visit("P1").pending_insurance == 37000
    assert b.total == 37000 and b.due_now == 0


def test_payment_without_claim_is_applied_to_the_visit():
    items = [charge(12000, claim="S1", status=ClaimStatus.SELF_PAY), paid(5000, entry_id="p")]
    b = compute_balance(items)
    v = b.visit("S1")
    assert v.remaining == 7000 and v.patient_paid == 5000 and v.from_account == 5000
    assert [a.entry_id for a in v.applied] == ["p"]
    assert b.total == 7000 and b.due_now == 7000 and b.credit == 0


def test_payment_for_unknown_claim_is_applied_like_one_without_a_claim():
    b = compute_balance([charge(12000, claim="S1"), paid(2000, "NOPE")])
    assert b.visit("S1").remaining == 10000 and b.total == 10000 == b.due_now


def test_overpayment_becomes_credit_and_refund_brings_it_back():
    items = [charge(10000, claim="S1", status=ClaimStatus.SELF_PAY), paid(15000, "S1")]
    b = compute_balance(items)
    assert b.total == -5000 and b.credit == 5000 and b.due_now == 0
    assert b.visit("S1").remaining == 0 and b.visit("S1").overpaid == 5000
    b2 = compute_balance([*items, refund(5000)])
    assert b2.total == 0 and b2.credit == 0


def test_overpayment_on_one_visit_pays_another():
    items = [charge(10000, claim="S1", status=ClaimStatus.SELF_PAY, due=date(2025, 4, 1)),
             paid(15000, "S1"),
             charge(8000, claim="S2", status=ClaimStatus.SELF_PAY, due=date(2025, 5, 1))]
    b = compute_balance(items)
    assert b.visit("S2").remaining == 3000 and b.visit("S2").patient_paid == 5000
    assert b.due_now == 3000 == b.total and b.due_date == date(2025, 5, 1)


def test_patient_adjustment_reduces_remaining_but_not_share():
    items = [charge(10000, claim="S1", status=ClaimStatus.SELF_PAY), pat_adj(3000, "S1")]
    (v,) = compute_balance(items).visits
    assert v.patient_share == 10000 and v.adjustments == 3000 and v.remaining == 7000


def test_charge_without_claim_is_its_own_visit():
    items = [charge(1000, entry_id="x1"), charge(2000, entry_id="x2")]
    b = compute_balance(items)
    assert [v.charge for v in b.visits] == [1000, 2000]
    assert all(v.claim_id is None for v in b.visits)


def test_visits_are_ordered_by_service_date_and_due_date_is_earliest_open():
    items = [
        charge(1000, claim="B", day=date(2025, 3, 1), due=date(2025, 4, 1)),
        charge(1000, claim="A", day=date(2025, 1, 1), due=date(2025, 2, 1)),
        paid(1000, "A"),
    ]
    b = compute_balance(items)
    assert [v.claim_id for v in b.visits] == ["A", "B"]
    assert b.due_date == date(2025, 4, 1)  # A is paid off


_kinds = st.sampled_from(list(EntryType))
_lines = st.lists(
    st.tuples(_kinds, st.integers(1, 100000), st.sampled_from([None, "A", "B", "C"]),
              st.sampled_from(list(ClaimStatus)), st.one_of(st.none(), st.dates(
                  date(2024, 1, 1), date(2025, 12, 31)))),
    max_size=12,
)


def _ledger(rows):
    return [
        LineItem(entry_id=f"e{n}", type=kind, amount=amount, posted_date=date(2025, 1, 1),
                 service_date=date(2025, 1, 1), claim_id=claim, claim_status=status,
                 due_date=due)
        for n, (kind, amount, claim, status, due) in enumerate(rows)
    ]


@settings(max_examples=200, deadline=None)
@given(_lines)
def test_balance_figures_agree_with_each_other_and_with_aging(rows):
    items = _ledger(rows)
    b = compute_balance(items)
    assert b.total == account_total(items)
    assert b.total == b.due_now + b.pending_insurance - b.credit
    assert b.due_now == sum(v.remaining for v in b.visits) + b.refunded_beyond_credit
    assert b.credit == 0 or sum(v.remaining for v in b.visits) == 0
    assert b.credit == 0 or b.refunded_beyond_credit == 0
    if b.total >= 0 and b.credit == 0:
        assert sum(v.remaining + v.pending_insurance for v in b.visits) + \
            b.refunded_beyond_credit == b.total
    assert all(v.remaining >= 0 and v.pending_insurance >= 0 for v in b.visits)
    assert all(v.remaining == 0 for v in b.visits if v.claim_status is ClaimStatus.PENDING)
    assert sum(v.charge for v in b.visits) == sum(
        i.amount for i in items if i.type is EntryType.CHARGE)
    assert age_account(items, date(2025, 6, 30)).total == b.due_now
