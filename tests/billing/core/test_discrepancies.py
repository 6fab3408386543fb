"""Discrepancy checks: each kind found on a small hand-built ledger, and none on clean ones."""
from __future__ import annotations

import re
from datetime import date

from billing.core import coding_checks
from billing.core.discrepancies import KINDS, find_discrepancies
from billing.core.ledger import ClaimStatus, RefundRecord, RefundStatus
from tests.ledger_builders import charge, coverage, ins_adj, ins_paid, paid, refund

SELF = ClaimStatus.SELF_PAY
DAY = date(2025, 3, 3)


def kinds(findings):
    return [f.kind for f in findings]


def only(findings, kind):
    (f,) = [f for f in findings if f.kind == kind]
    return f


def _refund(amount, status):
    return RefundRecord(refund_id="r1", amount=amount, status=status,
                        requested_date=date(2025, 5, 1))


def adjudicated_visit(share, claim="CL1", *, allowed=17000, charge_amount=25000, day=DAY):
    return [
        charge(charge_amount, claim=claim, day=day),
        ins_adj(charge_amount - allowed, claim),
        ins_paid(allowed - share, claim),
    ]


def test_clean_account_has_no_findings():
    items = [*adjudicated_visit(3400), paid(3400, "CL1")]
    cov = [coverage(deductible=150000, met=150000, coins="20")]
    assert find_discrepancies(items, cov, []) == []


def test_duplicate_charge_is_reported_with_both_lines():
    items = [charge(17500, claim="A", entry_id="c1"), charge(17500, claim="A", entry_id="c2")]
    f = only(find_discrepancies(items, [], []), "duplicate_charge")
    assert f.entry_ids == ("c1", "c2") and f.amount == 17500
    assert "99213" in f.summary and "Mar 3, 2025" in f.summary and "$175.00" in f.summary


def test_three_copies_count_two_extra():
    items = [charge(1000, claim="A") for _ in range(3)]
    assert only(find_discrepancies(items, [], []), "duplicate_charge").amount == 2000


def test_same_code_with_another_provider_or_day_is_not_a_duplicate():
    items = [charge(1000, claim="A"), charge(1000, claim="A", provider="Dr. Chen"),
             charge(1000, claim="B", day=date(2025, 3, 4))]
    assert "duplicate_charge" not in kinds(find_discrepancies(items, [], []))


def test_payment_without_a_claim_is_allocated_not_reported():
    items = [charge(12000, claim="S", status=SELF), paid(5000, entry_id="pay1")]
    assert find_discrepancies(items, [], []) == []


def test_payment_beyond_what_is_owed_is_credit_not_refunded():
    items = [charge(12000, claim="S", status=SELF), paid(20000, entry_id="pay1")]
    (f,) = find_discrepancies(items, [], [])
    assert f.kind == "credit_not_refunded" and f.amount == 8000 and f.entry_ids == ("pay1",)


def test_refund_issued_for_a_double_payment_leaves_no_finding():
    items = [charge(12000, claim="S", status=SELF, due=date(2025, 4, 1)),
             paid(12000, day=date(2025, 4, 2)), paid(12000, day=date(2025, 4, 2)),
             refund(12000, day=date(2025, 4, 20))]
    assert find_discrepancies(items, [], []) == []
    issued_unposted = items[:3]
    assert find_discrepancies(issued_unposted, [], [_refund(12000, RefundStatus.ISSUED)]) == []


def test_credit_is_held_while_a_claim_pends():
    items = [charge(40000, claim="P", status=ClaimStatus.PENDING), paid(3000)]
    assert "credit_not_refunded" not in kinds(find_discrepancies(items, [], []))


def test_unapplied_payment_with_nothing_owed_is_not_reported():
    items = [charge(12000, claim="S", status=SELF), paid(12000, "S"), paid(100)]
    assert find_discrepancies(items, [], [refund_rec(100)]) == []


def refund_rec(amount):
    return _refund(amount, RefundStatus.REQUESTED)


def test_pending_claim_with_a_due_date_was_billed_too_early():
    items = [charge(40000, claim="P", status=ClaimStatus.PENDING, due=date(2025, 4, 1),
                    entry_id="pc"), paid(2000, "P")]
    f = only(find_discrepancies(items, [], []), "billed_while_pending")
    assert f.entry_ids == ("pc",) and f.amount == 38000
    assert "insurance has not finished" in f.summary


def test_pending_claim_without_due_date_is_fine():
    items = [charge(40000, claim="P", status=ClaimStatus.PENDING),
             charge(500, claim="Q", due=date(2025, 4, 1))]
    assert "billed_while_pending" not in kinds(find_discrepancies(items, [], []))


def test_share_above_terms_when_deductible_cannot_explain_it():
    # $50 deductible, 20% coinsurance, allowed $170: at most $50 + 20% of $120 = $74.
    items = adjudicated_visit(12000)
    cov = [coverage(deductible=5000, met=5000, coins="20")]
    f = only(find_discrepancies(items, cov, []), "share_above_terms")
    assert f.amount == 12000 - 7400
    assert "$120.00" in f.summary and "$74.00" in f.summary and "$46.00" in f.summary


def test_share_above_copay_on_a_plan_without_deductible():
    items = adjudicated_visit(6000)
    cov = [coverage(deductible=0, met=0, copay=2500)]
    assert only(find_discrepancies(items, cov, []), "share_above_terms").amount == 3500


def test_share_that_went_toward_a_now_met_deductible_is_not_flagged():
    # Deductible is met today, but this visit's $120 may be what met it.
    items = adjudicated_visit(12000)
    cov = [coverage(deductible=150000, met=150000, coins="20")]
    assert "share_above_terms" not in kinds(find_discrepancies(items, cov, []))


def test_later_visits_shares_count_toward_the_deductible_as_it_stood_then():
    # $100 deductible met today. The March visit's whole $100 share can only be explained
    # because the later April visit's $80 share also went toward the deductible.
    items = [*adjudicated_visit(10000, "A", allowed=10000, charge_amount=10000),
             *adjudicated_visit(8000, "B", allowed=8000, charge_amount=8000,
                                day=date(2025, 4, 2))]
    cov = [coverage(deductible=10000, met=10000, coins="0")]
    assert "share_above_terms" not in kinds(find_discrepancies(items, cov, []))


def test_share_is_not_judged_without_active_coverage_or_adjudication():
    items = [*adjudicated_visit(12000), charge(9000, claim="D", status=ClaimStatus.DENIED)]
    ended = [coverage(deductible=0, copay=1000, terminated=date(2025, 1, 31))]
    assert "share_above_terms" not in kinds(find_discrepancies(items, ended, []))


def test_one_cent_of_payer_rounding_is_tolerated():
    items = adjudicated_visit(3401, allowed=17000)
    cov = [coverage(deductible=0, met=0, coins="20")]  # exact 20% = $34.00
    assert "share_above_terms" not in kinds(find_discrepancies(items, cov, []))
    items = adjudicated_visit(3402, allowed=17000)
    assert only(find_discrepancies(items, cov, []), "share_above_terms").amount == 2


def test_credit_without_refund_is_reported():
    items = [charge(10000, claim="S", status=SELF), paid(15000, "S", entry_id="p1")]
    f = only(find_discrepancies(items, [], []), "credit_not_refunded")
    assert f.amount == 5000 and f.entry_ids == ("p1",)


def test_credit_covered_by_a_refund_in_flight_is_not_reported():
    items = [charge(10000, claim="S", status=SELF), paid(15000, "S")]
    for status in (RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.ISSUED):
        assert find_discrepancies(items, [], [_refund(5000, status)]) == []
    partial = find_discrepancies(items, [], [_refund(2000, RefundStatus.REQUESTED)])
    assert only(partial, "credit_not_refunded").amount == 3000
    rejected = find_discrepancies(items, [], [_refund(5000, RefundStatus.REJECTED)])
    assert only(rejected, "credit_not_refunded").amount == 5000


def test_issued_refund_already_posted_does_not_cover_new_credit():
    items = [charge(10000, claim="S", status=SELF), paid(15000, "S"), refund(5000),
             paid(3000)]
    findings = find_discrepancies(items, [], [_refund(5000, RefundStatus.ISSUED)])
    assert only(findings, "credit_not_refunded").amount == 3000


def test_summaries_are_plain_short_and_nameless():
    items = [
        charge(17500, claim="A"), charge(17500, claim="A"),
        charge(12000, claim="S", status=SELF, day=date(2025, 2, 1)), paid(150000),
        charge(40000, claim="P", status=ClaimStatus.PENDING, due=date(2025, 4, 1),
               day=date(2025, 3, 20)),
        *adjudicated_visit(12000, "X", day=date(2025, 1, 10)),
    ]
    findings = find_discrepancies(items, [coverage(deductible=0, copay=2500)], [])
    patient_kinds = [k for k in KINDS if k not in coding_checks.KINDS]
    assert sorted(set(kinds(findings))) == sorted(patient_kinds)
    for f in findings:
        assert f.amount > 0
        assert len(f.summary) <= 160
        assert not re.search(r"[*_#`\[\]]", f.summary)
