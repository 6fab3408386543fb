"""Refunds executed at the processor: a refund a representative approved is sent back to a
processor payment on the account that can cover it, its status then follows the processor's
refund events, and the ledger gets its refund line when it succeeds. An account with no such
payment keeps the refund as a representative's task (execute_refund returns None)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import audit
from billing.core.ledger import EntryType
from billing.core.money import Cents, fmt
from billing.db.models import LedgerEntry
from billing.errors import RequestError
from billing.ledger_posting import post_line
from billing.payments import notices
from billing.payments.enums import REFUND_ORDER, ProcessorRefundStatus
from billing.payments.models import Checkout, ProcessorRefund
from billing.payments.notices import Notice
from billing.payments.posting import METHOD, ledger_ref
from billing.payments.processor import PaymentProcessor, ProcessorError, ProcessorUnavailable
from billing.refunds.enums import RefundStatus
from billing.refunds.models import Refund
from billing.refunds.service import issue_refund, note_refund

_NOT_MONEY_BACK = (ProcessorRefundStatus.FAILED, ProcessorRefundStatus.CANCELED)


def refundable_payment(session: Session, processor: str, patient_id: int,
                       amount: Cents) -> str | None:
    """The newest processor payment on the account with at least `amount` not yet refunded."""
    prefix = ledger_ref(processor, "")
    lines = session.scalars(
        select(LedgerEntry).where(LedgerEntry.patient_id == patient_id,
                                  LedgerEntry.type == EntryType.PATIENT_PAYMENT.value,
                                  LedgerEntry.entry_id.startswith(prefix))
        .order_by(LedgerEntry.posted_date.desc(), LedgerEntry.id.desc()))
    for line in lines:
        payment_ref = line.entry_id.removeprefix(prefix)
        refunded = session.scalar(
            select(func.coalesce(func.sum(ProcessorRefund.amount_cents), 0))
            .where(ProcessorRefund.payment_ref == payment_ref,
                   ProcessorRefund.status.not_in(_NOT_MONEY_BACK))) or 0
        if line.amount_cents - refunded >= amount:
            return payment_ref
    return None


def execute_refund(*, session: Session, processor: PaymentProcessor, refund: Refund,
                   actor: str, now: datetime, posted: date) -> tuple[ProcessorRefund, list[Notice]] | None:
    """Send an approved refund to the processor; None when no processor payment covers it.
    A refusal or no answer raises RequestError (the caller rolls the approval back; the
    idempotency key makes trying again the same refund)."""
    if refund.status != RefundStatus.APPROVED:
        raise RequestError(f"refund {refund.refund_id} is {refund.status}, not approved")
    payment_ref = refundable_payment(session, processor.name, refund.patient_id,
                                     Cents(refund.amount_cents))
    if payment_ref is None:
        return None
    try:
        outcome = processor.refund(payment_ref=payment_ref, amount=Cents(refund.amount_cents),
                                   idempotency_key=f"billbot-refund-{refund.refund_id}",
                                   metadata={"refund": refund.refund_id})
    except ProcessorUnavailable:
        raise RequestError("the payment processor did not answer; try again") from None
    except ProcessorError as err:
        raise RequestError(f"the payment processor refused the refund ({err})") from None
    record = ProcessorRefund(refund_id=refund.id, patient_id=refund.patient_id,
                             processor=processor.name, refund_ref=outcome.refund_ref,
                             payment_ref=payment_ref, amount_cents=refund.amount_cents,
                             status=ProcessorRefundStatus.PENDING, created_at=now, updated_at=now)
    session.add(record)
    session.flush()
    audit.record(session, actor, "refund_sent_to_processor", refund.patient_id, at=now,
                 refund=refund.refund_id, processor_refund=outcome.refund_ref)
    _, sent = apply_refund_status(session=session, processor=processor.name,
                                  refund_ref=outcome.refund_ref, status=outcome.status,
                                  now=now, posted=posted)
    return record, sent


def apply_refund_status(*, session: Session, processor: str, refund_ref: str, status: str,
                        now: datetime, posted: date) -> tuple[str, list[Notice]]:
    """Move a processor refund to the status the processor reports (forward only). On
    success: the refund is issued, its ledger line posted, the patient told."""
    record = session.scalars(select(ProcessorRefund).where(
        ProcessorRefund.processor == processor, ProcessorRefund.refund_ref == refund_ref)).first()
    if record is None:
        return "unknown_refund", []
    try:
        new = ProcessorRefundStatus(status)
    except ValueError:
        new = ProcessorRefundStatus.PENDING  # requires_action and the like: not done yet
    old = ProcessorRefundStatus(record.status)
    if REFUND_ORDER[new] <= REFUND_ORDER[old]:  # a replay, or news older than what we have
        return "unchanged", []
    record.status, record.updated_at = new, now
    refund = session.get(Refund, record.refund_id)
    if refund is None:
        return "unknown_refund", []
    if new == ProcessorRefundStatus.SUCCEEDED:
        issue_refund(session=session, refund=refund, on=posted, actor=processor, method=METHOD)
        post_line(session=session, patient_id=refund.patient_id, type=EntryType.REFUND,
                  amount=Cents(record.amount_cents), posted_date=posted,
                  entry_id=ledger_ref(processor, refund_ref), method=METHOD)
        audit.record(session, processor, "refund_issued", refund.patient_id, at=now,
                     refund=refund.refund_id, amount_cents=record.amount_cents)
        sender = _payer_sender(session, record.payment_ref)
        session.flush()
        told = [Notice(sender, (notices.refund_to_card(Cents(record.amount_cents)),))] \
            if sender else []
        return "refund_issued", told
    if new in _NOT_MONEY_BACK:
        note_refund(session=session, refund=refund, on=posted, actor=processor,
                    note=f"the processor's refund {new}: "
                         f"{fmt(Cents(record.amount_cents))} is for a representative")
        audit.record(session, processor, "refund_failed", refund.patient_id, at=now,
                     refund=refund.refund_id)
    session.flush()
    return f"refund_{new}", []


def _payer_sender(session: Session, payment_ref: str) -> str | None:
    """Where the patient asked for the page the refunded payment was made on."""
    return session.scalars(select(Checkout.sender_key)
                           .where(Checkout.payment_ref == payment_ref)).first()
