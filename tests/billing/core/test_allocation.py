"""The allocation rule (billing.core.allocation via billing.core.balances): hand cases from a payment
poster's day, and properties over generated ledgers."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.core.aging import age_account
from billing.core.balances import compute_balance
from billing.core.discrepancies import find_discrepancies
from billing.core.explanation import explain
from billing.core.ledger import ClaimStatus, EntryType, LineItem
from tests.ledger_builders import charge, ins_adj, ins_paid, paid, pat_adj, refund

SELF = ClaimStatus.SELF_PAY


def test_account_payment_pays_the_oldest_due_visit_first():
    items = [
        charge(21000, claim="OLD", status=SELF, day=date(2026, 6, 1), due=date(2026, 7, 1)),
        charge(21000, claim="NEW", status=SELF, day=date(2026, 11, 1), due=date(2026, 12, 1)),
        paid(21000, day=date(2026, 6, 20), entry_id="online"),
    ]
    b = compute_balance(items)
    assert b.visit("OLD").remaining == 0 and b.visit("NEW").remaining == 21000
    assert b.due_now == 21000 and b.due_date == date(2026, 12, 1)


def test_a_refunded_double_payment_takes_back_the_later_one():
    items = [
        charge(12000, claim="A", status=SELF, day=date(2026, 1, 5), due=date(2026, 2, 5)),
        charge(21000, claim="B", status=SELF, day=date(2026, 3, 5), due=date(2026, 4, 5)),
        paid(12000, day=date(2026, 2, 1), entry_id="p1"),
        paid(12000, day=date(2026, 2, 1), entry_id="p2"),
        refund(12000, day=date(2026, 2, 15)),
    ]
    b = compute_balance(items)
    assert [a.entry_id for a in b.visit("A").applied] == ["p1"]
    assert b.visit("B").remaining == 21000 and b.due_now == 21000 == b.total
    assert find_discrepancies(items, [], []) == []


def test_a_self_pay_discount_without_a_claim_shows_on_the_visit():
    items = [
        charge(480000, claim="S", status=SELF, day=date(2026, 5, 1), due=date(2026, 6, 1)),
        pat_adj(80000, day=date(2026, 5, 2), entry_id="disc"),
        paid(50000, day=date(2026, 5, 20), entry_id="check"),
    ]
    (v,) = compute_balance(items).visits
    assert (v.adjustments, v.patient_paid, v.remaining) == (80000, 50000, 350000)


def test_pending_insurance_is_not_paid_by_account_money_and_credit_waits():
    items = [charge(40000, claim="P", status=ClaimStatus.PENDING, due=date(2026, 5, 1)),
             paid(3000)]
    b = compute_balance(items)
    assert (b.due_now, b.pending_insurance, b.credit, b.total) == (0, 40000, 3000, 37000)


def test_refund_beyond_any_credit_is_owed_now_on_no_visit():
    items = [charge(10000, claim="S", status=SELF), paid(10000, "S"), refund(2500)]
    b = compute_balance(items)
    assert (b.due_now, b.refunded_beyond_credit, b.due_date) == (2500, 2500, None)
    assert age_account(items, date(2026, 1, 1)).buckets["current"] == 2500


def test_explanation_says_where_the_money_came_from():
    items = [
        charge(25000, claim="C", day=date(2026, 3, 3), due=date(2026, 4, 3), entry_id="c"),
        ins_paid(13600, "C"), ins_adj(8000, "C"),
        paid(1000, "C", day=date(2026, 3, 3)), paid(5000, day=date(2026, 4, 1), entry_id="p"),
    ]
    # share 250.00 - 136.00 - 80.00 = 34.00; 10.00 paid on the claim; 24.00 of the 50.00
    # account payment finishes it and 26.00 is credit.
    b = compute_balance(items)
    assert b.credit == 2600
    (e,) = explain(b, items)
    assert e.sentences == (
        "Office visit (99213) on Mar 3, 2026: the charge was $250.00.",
        "Your insurance paid $136.00.",
        "Your insurer's contract with us took $80.00 off (a contractual discount you don't owe).",
        "You paid $10.00 on Mar 3, 2026.",
        "$24.00 of your $50.00 payment on Apr 1, 2026 went to it.",
        "Nothing is left to pay on it.",
    )


# Properties over generated ledgers.
_day = st.integers(0, 300).map(lambda n: date(2025, 1, 1) + timedelta(days=n))
_row = st.tuples(
    st.sampled_from(list(EntryType)), st.integers(1, 100000),
    st.sampled_from([None, "A", "B", "C", "Z"]), st.sampled_from(list(ClaimStatus)),
    st.one_of(st.none(), _day), _day, _day,
)


def _ledger(rows) -> list[LineItem]:
    return [
        LineItem(entry_id=f"e{n}", type=kind, amount=amount, posted_date=posted,
                 service_date=served, claim_id=claim,
                 claim_status=status if kind is EntryType.CHARGE else None,
                 due_date=due if kind is EntryType.CHARGE else None)
        for n, (kind, amount, claim, status, due, served, posted) in enumerate(rows)
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(_row, max_size=14), _day)
def test_allocated_amounts_agree_everywhere(rows, today):
    items = _ledger(rows)
    b = compute_balance(items)
    remaining = sum(v.remaining for v in b.visits)
    pending = sum(v.pending_insurance for v in b.visits)
    assert all(v.remaining >= 0 and v.pending_insurance >= 0 for v in b.visits)
    if b.total >= 0 and b.credit == 0:
        assert remaining + pending + b.refunded_beyond_credit == b.total
    assert b.total == b.due_now + b.pending_insurance - b.credit
    assert b.due_now == remaining + b.refunded_beyond_credit == age_account(items, today).total
    for v in b.visits:  # each visit's itemisation adds up
        left = (v.charge - v.insurance_paid - v.adjustments - v.patient_paid + v.refunded
                + v.overpaid)
        assert left == (v.pending_insurance if v.claim_status is ClaimStatus.PENDING
                        else v.remaining)
    dues = [v.due_date for v in b.visits if v.remaining > 0 and v.due_date]
    assert b.due_date == (min(dues) if dues else None)


@st.composite
def _clean_ledger(draw) -> list[LineItem]:
    """Visits billed as agreed: distinct services, insurer lines within the charge, patient
    money (some on the claim, some on the account) never above what is owed."""
    items: list[LineItem] = []
    owed_total = 0
    for n in range(draw(st.integers(1, 5))):
        served = date(2025, 1, 1) + timedelta(days=7 * n)
        amount = draw(st.integers(1000, 90000))
        insured = draw(st.booleans())
        claim = f"CL{n}"
        items.append(charge(amount, claim=claim, day=served, due=served + timedelta(days=30),
                            cpt=f"9921{n}", status=ClaimStatus.ADJUDICATED if insured else SELF,
                            entry_id=f"c{n}"))
        share = amount
        if insured:
            adj = draw(st.integers(0, amount // 2))
            pay = draw(st.integers(0, amount - adj))
            items += [ins_adj(adj, claim, entry_id=f"ia{n}"), ins_paid(pay, claim, entry_id=f"ip{n}")]
            share = amount - adj - pay
        on_claim = draw(st.integers(0, share))
        if on_claim:
            items.append(paid(on_claim, claim, entry_id=f"pc{n}"))
        owed_total += share - on_claim
    account_money = draw(st.integers(0, owed_total))
    if account_money:
        items.append(paid(account_money, entry_id="acct"))
    return items


@settings(max_examples=200, deadline=None)
@given(_clean_ledger())
def test_no_finding_on_a_clean_ledger(items):
    assert find_discrepancies(items, [], []) == []
