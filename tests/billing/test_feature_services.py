"""The representative side of each feature, called as a service (the console wraps these and
audits): decisions happen once, on this account only, and statuses are stored as the same
strings as before the enums."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from billing.disputes.enums import DisputeStatus
from billing.disputes.service import open_dispute, resolve_dispute
from billing.errors import RequestError
from billing.insurance_changes.enums import InsuranceChangeStatus
from billing.insurance_changes.service import decide_insurance_change, record_insurance_change
from billing.payment_plans.enums import InstallmentStatus, PlanStatus
from billing.payment_plans.models import PaymentPlan
from billing.payment_plans.service import PlanExists, create_plan, set_up_plan
from billing.refunds.enums import RefundStatus
from billing.refunds.service import decide_refund, request_refund
from tests.dialogue_factories import add_entry, add_patient

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)


def test_a_refund_is_decided_once_and_only_on_its_account(session):
    p = add_patient(session)
    add_entry(session, p, "patient_payment", 3000, method="card")
    refund_id = request_refund(session=session, patient_id=p.id, amount=3000,
                               today=TODAY).refund_id
    with pytest.raises(RequestError):
        decide_refund(session=session, patient_id=add_patient(session).id, refund_id=refund_id,
                      approve=True, actor="rep:rita", today=TODAY)
    refund = decide_refund(session=session, patient_id=p.id, refund_id=refund_id,
                           approve=True, actor="rep:rita", today=TODAY, note=" ok ")
    assert refund.status == RefundStatus.APPROVED
    assert [(e.status, e.actor, e.note) for e in refund.events] == [
        ("requested", "patient", None), ("approved", "rep:rita", "ok")]
    with pytest.raises(RequestError, match="already approved"):
        decide_refund(session=session, patient_id=p.id, refund_id=refund_id,
                      approve=False, actor="rep:rita", today=TODAY)


def test_a_refund_over_the_credit_is_not_approved(session):
    p = add_patient(session)
    refund_id = request_refund(session=session, patient_id=p.id, amount=3000,
                               today=TODAY).refund_id
    with pytest.raises(RequestError, match="credit"):
        decide_refund(session=session, patient_id=p.id, refund_id=refund_id,
                      approve=True, actor="rep:rita", today=TODAY)


def test_an_insurance_change_is_confirmed_once(session):
    p = add_patient(session)
    change = record_insurance_change(session=session, patient_id=p.id, payer="Aetna",
                                     member_id="AB-123")
    decided = decide_insurance_change(session=session, patient_id=p.id, change_id=change.id,
                                      confirm=True, actor="rep:rita")
    assert (decided.status, decided.decided_by) == (InsuranceChangeStatus.CONFIRMED, "rep:rita")
    with pytest.raises(RequestError, match="already confirmed"):
        decide_insurance_change(session=session, patient_id=p.id, change_id=change.id,
                                confirm=False, actor="rep:rita")


def test_a_dispute_is_resolved_once_and_reminders_resume(session):
    p = add_patient(session)
    charge = add_entry(session, p, "charge", 20000, entry_id="C-1")
    ref = open_dispute(session=session, patient_id=p.id, entry_ids=["C-1"], summary="x",
                       amount=0, now=NOW).reference
    with pytest.raises(RequestError, match="at most"):
        resolve_dispute(session=session, patient_id=p.id, reference=ref, adjustment=20001,
                        resolution="r", today=TODAY, now=NOW)
    dispute = resolve_dispute(session=session, patient_id=p.id, reference=ref, adjustment=0,
                              resolution=" checked,  correct ", today=TODAY, now=NOW)
    assert (dispute.status, dispute.resolution) == (DisputeStatus.RESOLVED, "checked, correct")
    assert charge.reminders_paused is False
    with pytest.raises(RequestError, match="already resolved"):
        resolve_dispute(session=session, patient_id=p.id, reference=ref, adjustment=0,
                        resolution="again", today=TODAY, now=NOW)


def test_a_representatives_plan_splits_what_is_due_now(session):
    p = add_patient(session)
    add_entry(session, p, "charge", 30001, claim_status="self_pay", due_date=date(2026, 2, 1))
    with pytest.raises(RequestError, match="1 to 12 months"):
        set_up_plan(session=session, patient_id=p.id, months=13, first_due=TODAY,
                    created_by="rep:rita", today=TODAY, max_months=12, min_monthly=2500)
    plan = set_up_plan(session=session, patient_id=p.id, months=3, first_due=TODAY,
                       created_by="rep:rita", today=TODAY, max_months=12, min_monthly=2500)
    session.refresh(plan)
    assert (plan.total_cents, plan.created_by, plan.status) == (30001, "rep:rita", "active")
    assert [i.amount_cents for i in plan.installments] == [10001, 10000, 10000]
    with pytest.raises(PlanExists):
        set_up_plan(session=session, patient_id=p.id, months=3, first_due=TODAY,
                    created_by="rep:rita", today=TODAY, max_months=12, min_monthly=2500)


def test_a_plan_recorded_as_paid_is_completed(session):
    p = add_patient(session)
    plan = create_plan(session=session, patient_id=p.id, total=200,
                       installments=[(1, TODAY, 100), (2, date(2026, 4, 4), 100)],
                       created_by="demo", paid=2)
    session.refresh(plan)
    assert plan.status == PlanStatus.COMPLETED
    assert [i.status for i in plan.installments] == [InstallmentStatus.PAID] * 2


def test_statuses_are_stored_as_the_same_strings(session):
    p = add_patient(session)
    create_plan(session=session, patient_id=p.id, total=100, installments=[(1, TODAY, 100)])
    open_dispute(session=session, patient_id=p.id, entry_ids=[], summary="x", amount=0, now=NOW)
    record_insurance_change(session=session, patient_id=p.id, payer="Aetna", member_id="AB-1234")
    request_refund(session=session, patient_id=p.id, amount=100, today=TODAY)
    session.flush()
    raw = {
        table: session.execute(text(f"SELECT status FROM {table}")).scalar_one()
        for table in ("payment_plans", "plan_installments", "disputes", "insurance_changes",
                      "refunds", "refund_events")
    }
    assert raw == {"payment_plans": "active", "plan_installments": "scheduled",
                   "disputes": "open", "insurance_changes": "pending", "refunds": "requested",
                   "refund_events": "requested"}
    assert type(raw["disputes"]) is str
    assert session.scalars(select(PaymentPlan.status)).one() == PlanStatus.ACTIVE
