"""A patient's refund request and a representative's decision on it. The importer writes the
practice system's refunds in bulk (billing/importer.py). The caller owns the transaction."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.core.money import Cents, fmt
from billing.errors import RequestError
from billing.references import new_reference
from billing.refunds.enums import RefundSource, RefundStatus
from billing.refunds.models import Refund, RefundEvent


def request_refund(*, session: Session, patient_id: int, amount: Cents, today: date) -> Refund:
    """A patient's refund request of a credit balance, for a representative to approve."""
    if amount <= 0:
        raise RequestError("there is no credit to refund")
    open_request = session.scalars(
        select(Refund).where(
            Refund.patient_id == patient_id,
            Refund.status == RefundStatus.REQUESTED,
            Refund.source == RefundSource.PATIENT,
        )
    ).first()
    if open_request is not None:
        raise RequestError("a refund request is already waiting for a representative")
    refund = Refund(
        refund_id=new_reference(session, "R-", Refund.refund_id),
        patient_id=patient_id,
        amount_cents=amount,
        status=RefundStatus.REQUESTED,
        requested_date=today,
        source=RefundSource.PATIENT,
    )
    session.add(refund)
    session.flush()
    session.add(
        RefundEvent(refund_id=refund.id, status=RefundStatus.REQUESTED, on_date=today,
                    actor="patient")
    )
    session.flush()
    return refund


def decide_refund(
    *,
    session: Session,
    patient_id: int,
    refund_id: str,
    approve: bool,
    actor: str,
    today: date,
    note: str = "",
) -> Refund:
    """Approve or reject a requested refund. Approval checks the account still holds the credit."""
    refund = session.scalars(
        select(Refund).where(Refund.refund_id == refund_id, Refund.patient_id == patient_id)
    ).first()
    if refund is None:
        raise RequestError("no such refund request on this account")
    if refund.status != RefundStatus.REQUESTED:
        raise RequestError(f"refund {refund_id} is already {refund.status}")
    if approve:
        credit = compute_balance(load_items(session, patient_id)).credit
        if refund.amount_cents > credit:
            raise RequestError(
                f"the account's credit is {fmt(credit)}, less than the {fmt(refund.amount_cents)} asked"
            )
    refund.status = RefundStatus.APPROVED if approve else RefundStatus.REJECTED
    session.add(
        RefundEvent(
            refund_id=refund.id, status=refund.status, on_date=today, actor=actor,
            note=(note or "").strip() or None,
        )
    )
    session.flush()
    return refund


def issue_refund(*, session: Session, refund: Refund, on: date, actor: str, method: str) -> None:
    """The money went back (the processor confirmed it): the refund is issued."""
    refund.status, refund.issued_date, refund.method = RefundStatus.ISSUED, on, method
    session.add(RefundEvent(refund_id=refund.id, status=RefundStatus.ISSUED, on_date=on,
                            actor=actor))
    session.flush()


def note_refund(*, session: Session, refund: Refund, on: date, actor: str, note: str) -> None:
    """A note on the refund's history that leaves its status as it is (e.g. the processor
    could not send the money back: the representative's task again)."""
    session.add(RefundEvent(refund_id=refund.id, status=refund.status, on_date=on, actor=actor,
                            note=note))
    session.flush()
