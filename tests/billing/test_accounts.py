"""Reading accounts into snapshots, look-ups, payment posting and the audit trail."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from billing import audit
from billing.accounts import (
    InvalidPayment,
    UnknownAccount,
    UnknownClaim,
    find_by_account_number,
    find_by_phone,
    find_by_telegram_chat,
    load_snapshot,
    post_payment,
)
from billing.core.balances import compute_balance
from billing.core.ledger import EntryType, RefundStatus
from billing.db.models import AuditLog, LedgerEntry
from billing.disputes.models import Dispute
from billing.importer import import_sources, sources_from_paths
from billing.payment_plans.models import PaymentPlan, PlanInstallment

FIXTURE = Path(__file__).parents[1] / "fixtures" / "clinic_small"
NOW = datetime(2024, 6, 30, 15, 0, tzinfo=UTC)


@pytest.fixture
def clinic(session):
    with session.begin():
        import_sources(session, sources_from_paths([FIXTURE]), now=NOW)
    return session


def test_snapshot_holds_the_ledger_coverages_refunds_plan_and_disputes(clinic):
    s = clinic
    a102 = find_by_account_number(s, "A102")
    plan = PaymentPlan(patient_id=a102.id, total_cents=9000, monthly_cents=3000, months=3,
                       start_date=date(2024, 7, 1), created_at=NOW)
    s.add(plan)
    s.flush()
    s.add_all([
        PlanInstallment(plan_id=plan.id, seq=1, due_date=date(2024, 7, 1), amount_cents=3000,
                        status="paid"),
        PlanInstallment(plan_id=plan.id, seq=2, due_date=date(2024, 8, 1), amount_cents=3000),
        PlanInstallment(plan_id=plan.id, seq=3, due_date=date(2024, 9, 1), amount_cents=3000),
    ])
    s.add(Dispute(reference="D-7K2M", patient_id=a102.id, summary="duplicate payment",
                  amount_cents=22000, opened_at=NOW))
    s.add(Dispute(reference="D-OLD1", patient_id=a102.id, summary="old", status="resolved",
                  opened_at=NOW))
    s.commit()
    snap = load_snapshot(s, a102.id)
    assert (snap.account_number, snap.first_name, snap.timezone) == (
        "A102", "Cara", "Pacific/Honolulu")
    assert [i.entry_id for i in snap.items] == ["E3001", "E3002", "E3003", "E3004"]
    assert snap.items[0].type is EntryType.CHARGE and snap.items[0].amount == 22000
    assert snap.coverages == ()
    assert [(r.refund_id, r.status) for r in snap.refunds] == [
        ("R0", RefundStatus.ISSUED), ("R3", RefundStatus.REJECTED),
        ("R1", RefundStatus.APPROVED), ("R2", RefundStatus.REQUESTED)]
    p = snap.active_plan
    assert (p.total, p.monthly, p.months, p.next_due, p.remaining_installments) == (
        9000, 3000, 3, date(2024, 8, 1), 2)
    assert [(d.reference, d.status, d.amount) for d in snap.open_disputes] == [
        ("D-7K2M", "open", 22000)]

    a100 = load_snapshot(s, find_by_account_number(s, "A100").id)
    assert [c.plan_name for c in a100.coverages] == ["OMH Bronze", "Acme PPO Gold"]
    assert a100.coverages[1].coinsurance_percent == 20 and a100.active_plan is None
    with pytest.raises(UnknownAccount):
        load_snapshot(s, 999999)


def test_lookups_by_account_phone_and_telegram(clinic):
    s = clinic
    assert find_by_account_number(s, " a101 ").first_name == "Ben"
    assert find_by_account_number(s, "A999") is None
    assert [p.account_number for p in find_by_phone(s, "+16025550101")] == ["A100", "A101"]
    assert find_by_phone(s, "+18085550100") == []
    assert [p.account_number for p in find_by_telegram_chat(s, 700100101)] == ["A101"]
    assert find_by_telegram_chat(s, 1) == []


def test_a_payment_on_a_claim_lowers_that_visit(clinic):
    s = clinic
    pid = find_by_account_number(s, "A100").id
    entry = post_payment(session=s, patient_id=pid, amount=2000, method="card",
                         on=date(2024, 7, 1), claim_id="C100")
    s.commit()
    assert entry.entry_id.startswith("PAY-") and entry.type == "patient_payment"
    b = compute_balance(load_snapshot(s, pid).items)
    assert b.visit("C100").remaining == 0 and b.total == 25000  # 270.00 - 20.00


@pytest.mark.parametrize("kwargs,error", [
    ({"amount": 0}, InvalidPayment),
    ({"amount": -500}, InvalidPayment),
    ({"method": "bitcoin"}, InvalidPayment),
    ({"claim_id": "C200"}, UnknownClaim),  # A101's claim, not A100's
    ({"patient_id": 999999}, UnknownAccount),
])
def test_a_bad_payment_is_refused_and_adds_nothing(clinic, kwargs, error):
    s = clinic
    before = s.scalar(select(func.count()).select_from(LedgerEntry))
    args = {"patient_id": find_by_account_number(s, "A100").id, "amount": 1000,
            "method": "card", "on": date(2024, 7, 1), **kwargs}
    with pytest.raises(error):
        post_payment(session=s, **args)
    s.rollback()
    assert s.scalar(select(func.count()).select_from(LedgerEntry)) == before


def test_audit_detail_keeps_ids_and_kinds_only(session):
    with session.begin():
        audit.record(session, "bot", "view_balance", None, at=NOW, channel="sms",
                     entries=["E1", 2, object()], counts={"a": 1, "b": object()},
                     when=date(2024, 1, 1))
    row = session.scalars(select(AuditLog)).one()
    assert (row.actor, row.action, row.at) == ("bot", "view_balance", NOW)
    assert row.detail == {"channel": "sms", "entries": ["E1", 2], "counts": {"a": 1},
                          "when": "2024-01-01"}


def test_an_import_that_changes_something_is_audited_once(clinic):
    rows = clinic.scalars(select(AuditLog).where(AuditLog.action == "import")).all()
    assert len(rows) == 1
    assert rows[0].detail["ledger_inserted"] == 19 and rows[0].actor == "import"
