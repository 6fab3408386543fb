"""What a representative does to an account from the console: decide refund requests, confirm
insurance changes, resolve disputes with an adjustment, set up payment plans. Each is a thin
wrapper over the feature's service (which checks the object belongs to the escalated patient
and does the write) that records the representative in the audit log. The caller commits."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from billing import audit
from billing.core.clock import utcnow
from billing.core.money import Cents
from billing.disputes import service as disputes
from billing.disputes.models import Dispute
from billing.errors import RequestError
from billing.insurance_changes import service as insurance_changes
from billing.insurance_changes.models import InsuranceChange
from billing.payment_plans import service as payment_plans
from billing.payment_plans.models import PaymentPlan
from billing.payments.notices import Notice
from billing.payments.processor import PaymentProcessor
from billing.payments.refunds import execute_refund
from billing.refunds import service as refunds
from billing.refunds.models import Refund

T = TypeVar("T")


class ActionError(ValueError):
    """An account action that cannot be done as asked; nothing was changed."""


def _do(write: Callable[..., T], **kwargs) -> T:
    try:
        return write(**kwargs)
    except RequestError as exc:
        raise ActionError(str(exc)) from None


def decide_refund(
    session: Session,
    patient_id: int,
    refund_id: str,
    approve: bool,
    actor: str,
    today: date,
    note: str = "",
    processor: PaymentProcessor | None = None,
    now: datetime | None = None,
) -> tuple[Refund, list[Notice]]:
    """Approve or reject a requested refund. Approval checks the account still holds the
    credit; with a processor, an approved refund of a payment made through it is executed
    there (its status then follows the processor's events). The notices are for after commit."""
    refund = _do(refunds.decide_refund, session=session, patient_id=patient_id,
                 refund_id=refund_id, approve=approve, actor=actor, today=today, note=note)
    audit.record(session, actor, f"refund_{refund.status}", patient_id, refund=refund.refund_id)
    session.flush()
    told: list[Notice] = []
    if approve and processor is not None:
        executed = _do(execute_refund, session=session, processor=processor, refund=refund,
                       actor=actor, now=now or utcnow(), posted=today)
        if executed is not None:
            told = executed[1]
    return refund, told


def decide_insurance_change(
    session: Session, patient_id: int, change_id: int, confirm: bool, actor: str
) -> InsuranceChange:
    """Confirm or reject a pending insurance change and record the decision in the audit log."""
    change = _do(insurance_changes.decide_insurance_change, session=session,
                 patient_id=patient_id, change_id=change_id, confirm=confirm, actor=actor)
    audit.record(session, actor, f"insurance_change_{change.status}", patient_id, change=change.id)
    session.flush()
    return change


def resolve_dispute(
    session: Session,
    patient_id: int,
    reference: str,
    adjustment: Cents,
    resolution: str,
    actor: str,
    today: date,
    now: datetime,
) -> Dispute:
    """Close a dispute, with an optional adjustment (billing.disputes.service.resolve_dispute)."""
    dispute = _do(disputes.resolve_dispute, session=session, patient_id=patient_id,
                  reference=reference, adjustment=adjustment, resolution=resolution,
                  today=today, now=now)
    audit.record(
        session, actor, "resolve_dispute", patient_id, dispute=reference,
        adjustment_cents=adjustment,
    )
    session.flush()
    return dispute


def set_up_plan(
    session: Session,
    patient_id: int,
    months: int,
    first_due: date,
    actor: str,
    today: date,
    settings,
) -> PaymentPlan:
    """A plan over what is due now, split into `months` installments (Settings' limits apply)."""
    plan = _do(payment_plans.set_up_plan, session=session, patient_id=patient_id,
               months=months, first_due=first_due, created_by=actor, today=today,
               max_months=settings.plan_max_months, min_monthly=settings.plan_min_monthly_cents)
    audit.record(session, actor, "create_plan", patient_id, plan=plan.id, months=months)
    return plan
