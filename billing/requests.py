"""What a patient can ask for, written to the database for a representative: disputes, refund
requests, payment plans, insurance changes and escalations. The caller owns the transaction."""
from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.ledger import RefundStatus
from billing.core.money import Cents
from billing.db.models import (
    Dispute,
    DisputeItem,
    Escalation,
    InsuranceChange,
    LedgerEntry,
    PaymentPlan,
    PlanInstallment,
    Refund,
    RefundEvent,
)

ESCALATION_PRIORITY = {
    "verification_locked": 1,
    "frustration": 1,
    "dispute": 2,
    "request_human": 2,
    "low_confidence": 3,
}
OPEN_ESCALATION = ("queued", "assigned")
_MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$")
_REF_ALPHABET = string.ascii_uppercase + string.digits


class RequestError(ValueError):
    """A request that cannot be recorded as asked (the patient hears why in plain words)."""


class PlanExists(RequestError):
    """The account already has an active payment plan."""


def _reference(session: Session, prefix: str, column) -> str:
    while True:
        ref = prefix + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
        if session.scalars(select(column).where(column == ref)).first() is None:
            return ref


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC)


def open_dispute(
    session: Session,
    patient_id: int,
    entry_ids: list[str],
    summary: str,
    amount: Cents,
    now: datetime,
    findings: dict[str, str] | None = None,
) -> Dispute:
    """A dispute case 'D-XXXXXX' over these ledger lines; reminders pause on each of them."""
    entries = list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.patient_id == patient_id, LedgerEntry.entry_id.in_(entry_ids)
            )
        )
    ) if entry_ids else []
    dispute = Dispute(
        reference=_reference(session, "D-", Dispute.reference),
        patient_id=patient_id,
        status="open",
        summary=summary,
        amount_cents=amount,
        opened_at=_utc(now),
    )
    session.add(dispute)
    session.flush()
    for entry in entries:
        entry.reminders_paused = True
        session.add(
            DisputeItem(
                dispute_id=dispute.id,
                entry_id=entry.id,
                finding=(findings or {}).get(entry.entry_id),
            )
        )
    session.flush()
    return dispute


def request_refund(session: Session, patient_id: int, amount: Cents, today: date) -> Refund:
    """A patient's refund request of a credit balance, for a representative to approve."""
    if amount <= 0:
        raise RequestError("there is no credit to refund")
    open_request = session.scalars(
        select(Refund).where(
            Refund.patient_id == patient_id,
            Refund.status == RefundStatus.REQUESTED.value,
            Refund.source == "patient",
        )
    ).first()
    if open_request is not None:
        raise RequestError("a refund request is already waiting for a representative")
    refund = Refund(
        refund_id=_reference(session, "R-", Refund.refund_id),
        patient_id=patient_id,
        amount_cents=amount,
        status=RefundStatus.REQUESTED.value,
        requested_date=today,
        source="patient",
    )
    session.add(refund)
    session.flush()
    session.add(
        RefundEvent(refund_id=refund.id, status="requested", on_date=today, actor="patient")
    )
    session.flush()
    return refund


def create_plan(
    session: Session,
    patient_id: int,
    total: Cents,
    installments: list[tuple[int, date, Cents]],
    created_by: str = "patient",
) -> PaymentPlan:
    """A payment plan and its installments (seq, due date, amount); they must sum to total."""
    if not installments:
        raise RequestError("a plan needs at least one installment")
    if sum(amount for _, _, amount in installments) != total:
        raise RequestError("installments do not add up to the plan total")
    active = session.scalars(
        select(PaymentPlan.id).where(
            PaymentPlan.patient_id == patient_id, PaymentPlan.status == "active"
        )
    ).first()
    if active is not None:
        raise PlanExists("this account already has an active payment plan")
    plan = PaymentPlan(
        patient_id=patient_id,
        total_cents=total,
        monthly_cents=max(amount for _, _, amount in installments),
        months=len(installments),
        start_date=min(due for _, due, _ in installments),
        status="active",
        created_by=created_by,
    )
    session.add(plan)
    session.flush()
    for seq, due, amount in installments:
        session.add(PlanInstallment(plan_id=plan.id, seq=seq, due_date=due, amount_cents=amount))
    session.flush()
    return plan


def record_insurance_change(
    session: Session, patient_id: int, payer: str, member_id: str
) -> InsuranceChange:
    """A new payer and member id, pending until a representative confirms them."""
    payer = " ".join((payer or "").split())
    member_id = (member_id or "").strip()
    if not payer or len(payer) > 120:
        raise RequestError("the insurance company name is missing")
    if not _MEMBER_ID.match(member_id):
        raise RequestError("a member id is 3 to 64 letters, digits or dashes")
    change = InsuranceChange(
        patient_id=patient_id, payer=payer, member_id=member_id.upper(), status="pending"
    )
    session.add(change)
    session.flush()
    return change


def escalate(
    session: Session,
    sender_key: str,
    channel: str,
    patient_id: int | None,
    reason: str,
    now: datetime,
    note: str | None = None,
) -> Escalation:
    """Queue the conversation for a representative; an open one for the sender is reused
    (its priority raised if this reason is more urgent)."""
    if reason not in ESCALATION_PRIORITY:
        raise RequestError(f"unknown escalation reason {reason!r}")
    priority = ESCALATION_PRIORITY[reason]
    existing = session.scalars(
        select(Escalation)
        .where(Escalation.sender_key == sender_key, Escalation.status.in_(OPEN_ESCALATION))
        .order_by(Escalation.id.desc())
    ).first()
    if existing is not None:
        existing.priority = min(existing.priority, priority)
        if patient_id is not None and existing.patient_id is None:
            existing.patient_id = patient_id
        return existing
    escalation = Escalation(
        sender_key=sender_key,
        channel=channel,
        patient_id=patient_id,
        reason=reason,
        priority=priority,
        status="queued",
        note=note,
        created_at=_utc(now),
    )
    session.add(escalation)
    session.flush()
    return escalation
