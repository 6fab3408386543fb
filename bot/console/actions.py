"""What a representative does to an account from the console: decide refund requests, confirm
insurance changes, resolve disputes with an adjustment, set up payment plans. Each checks that
the object belongs to the escalated patient, and writes the audit log. The caller commits."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.core.ledger import EntryType, RefundStatus
from billing.core.money import Cents, fmt
from billing.core.plans import schedule
from billing.db.models import Dispute, InsuranceChange, LedgerEntry, Refund, RefundEvent
from billing.requests import RequestError, create_plan


class ActionError(ValueError):
    """An account action that cannot be done as asked; nothing was changed."""


def _refund(session: Session, patient_id: int, refund_id: str) -> Refund:
    refund = session.scalars(
        select(Refund).where(Refund.refund_id == refund_id, Refund.patient_id == patient_id)
    ).first()
    if refund is None:
        raise ActionError("no such refund request on this account")
    if refund.status != RefundStatus.REQUESTED.value:
        raise ActionError(f"refund {refund_id} is already {refund.status}")
    return refund


def decide_refund(
    session: Session,
    patient_id: int,
    refund_id: str,
    approve: bool,
    actor: str,
    today: date,
    note: str = "",
) -> Refund:
    """Approve or reject a requested refund. Approval checks the account still holds the credit."""
    refund = _refund(session, patient_id, refund_id)
    if approve:
        credit = compute_balance(load_items(session, patient_id)).credit
        if refund.amount_cents > credit:
            raise ActionError(
                f"the account's credit is {fmt(credit)}, less than the {fmt(refund.amount_cents)} asked"
            )
    status = RefundStatus.APPROVED if approve else RefundStatus.REJECTED
    refund.status = status.value
    session.add(
        RefundEvent(
            refund_id=refund.id, status=status.value, on_date=today, actor=actor,
            note=(note or "").strip() or None,
        )
    )
    audit.record(session, actor, f"refund_{status.value}", patient_id, refund=refund.refund_id)
    session.flush()
    return refund


def decide_insurance_change(
    session: Session, patient_id: int, change_id: int, confirm: bool, actor: str
) -> InsuranceChange:
    change = session.get(InsuranceChange, change_id)
    if change is None or change.patient_id != patient_id:
        raise ActionError("no such insurance change on this account")
    if change.status != "pending":
        raise ActionError(f"this insurance change is already {change.status}")
    change.status = "confirmed" if confirm else "rejected"
    change.decided_by = actor
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
    """Close a dispute; a positive adjustment posts a patient_adjustment line lowering what the
    patient owes (on the disputed claim when the dispute is about one claim). Reminders on the
    disputed lines resume."""
    dispute = session.scalars(
        select(Dispute).where(Dispute.reference == reference, Dispute.patient_id == patient_id)
    ).first()
    if dispute is None:
        raise ActionError("no such dispute on this account")
    if dispute.status != "open":
        raise ActionError(f"dispute {reference} is already {dispute.status}")
    resolution = " ".join((resolution or "").split())
    if not resolution:
        raise ActionError("say how the dispute was resolved")
    entries = [
        session.get(LedgerEntry, item.entry_id) for item in dispute.items
    ]
    disputed = sum(e.amount_cents for e in entries if e.type == EntryType.CHARGE.value)
    ceiling = max(disputed, dispute.amount_cents)
    if adjustment < 0:
        raise ActionError("an adjustment cannot be negative")
    if adjustment > ceiling:
        raise ActionError(f"an adjustment can be at most the disputed {fmt(ceiling)}")
    if adjustment:
        claims = {e.claim_id for e in entries if e.claim_id}
        session.add(
            LedgerEntry(
                entry_id=f"ADJ-{uuid.uuid4().hex[:16].upper()}",
                patient_id=patient_id,
                type=EntryType.PATIENT_ADJUSTMENT.value,
                amount_cents=adjustment,
                posted_date=today,
                claim_id=claims.pop() if len(claims) == 1 else None,
                description=f"Dispute {reference} adjustment",
            )
        )
    for entry in entries:
        entry.reminders_paused = False
    dispute.status = "resolved"
    dispute.resolved_at = now
    dispute.resolution = resolution
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
):
    """A plan over what is due now, split into `months` installments (Settings' limits apply)."""
    if not 1 <= months <= settings.plan_max_months:
        raise ActionError(f"a plan runs 1 to {settings.plan_max_months} months")
    if first_due < today:
        raise ActionError("the first installment cannot be due in the past")
    due_now = compute_balance(load_items(session, patient_id)).due_now
    if due_now <= 0:
        raise ActionError("nothing is due on this account")
    installments = schedule(due_now, months, first_due)
    if months > 1 and min(i.amount for i in installments) < settings.plan_min_monthly_cents:
        raise ActionError(
            f"installments would fall under the {fmt(settings.plan_min_monthly_cents)} minimum"
        )
    try:
        plan = create_plan(
            session, patient_id, due_now,
            [(i.seq, i.due_date, i.amount) for i in installments], created_by=actor,
        )
    except RequestError as exc:
        raise ActionError(str(exc)) from None
    audit.record(session, actor, "create_plan", patient_id, plan=plan.id, months=months)
    return plan
