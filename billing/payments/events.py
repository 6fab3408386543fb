"""The processor's verified events, each handled once (a row per event id, written in the
same transaction as what the event did): a completed page posts its payment (when amount,
currency and account match what was asked) or saves the autopay method; an expired page is
closed; an off-session charge finishes; a refund follows its status. A payment that does not
match its page goes to a representative and not into the ledger. The caller owns the
transaction, and sends the notices and stops the reminders once it has committed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import find_by_account_number
from billing.core.money import Cents
from billing.core.sender_key import SenderKey, sender_key
from billing.db.models import Patient
from billing.escalations.enums import EscalationReason
from billing.escalations.service import escalate
from billing.payments import autopay, notices
from billing.payments.enums import CheckoutStatus, Purpose
from billing.payments.models import Checkout, ProcessorEventRecord
from billing.payments.notices import Notice
from billing.payments.posting import post_processor_payment
from billing.payments.processor import CURRENCY, Event, PaymentProcessor
from billing.payments.refunds import apply_refund_status


@dataclass
class EventResult:
    outcome: str  # duplicate, posted, review, expired, autopay_on, refund_issued, ignored, ...
    notices: list[Notice] = field(default_factory=list)
    paid_patients: list[int] = field(default_factory=list)  # whose reminders may stop


def seen(session: Session, processor: str, event_ref: str) -> bool:
    """Whether this event id was handled before."""
    return session.scalars(select(ProcessorEventRecord.id).where(
        ProcessorEventRecord.processor == processor,
        ProcessorEventRecord.event_ref == event_ref)).first() is not None


def receive_event(*, session: Session, processor: PaymentProcessor, event: Event,
                  now: datetime, posted: date) -> EventResult:
    """Handle a verified event once. A concurrent duplicate fails the unique key on commit
    (the caller answers it as a duplicate: the first one did the work)."""
    if not event.event_ref or seen(session, processor.name, event.event_ref):
        return EventResult("duplicate")
    result = _handle(session, processor, event, now, posted)
    session.add(ProcessorEventRecord(processor=processor.name, event_ref=event.event_ref,
                                     kind=event.kind, outcome=result.outcome, received_at=now))
    session.flush()
    return result


def _handle(session: Session, processor: PaymentProcessor, event: Event, now: datetime,
            posted: date) -> EventResult:
    if event.kind in ("page_completed", "page_payment_succeeded", "page_expired"):
        checkout = session.scalars(select(Checkout).where(
            Checkout.processor == processor.name, Checkout.session_ref == event.ref)).first()
        if checkout is None:
            return _unknown_page(session, processor, event, now)
        if event.kind == "page_expired":
            if checkout.status == CheckoutStatus.OPEN:
                checkout.status = CheckoutStatus.EXPIRED
                return EventResult("expired")
            return EventResult("unchanged")
        if checkout.purpose == Purpose.SETUP:
            outcome, told = autopay.activate(session=session, processor=processor,
                                             checkout=checkout, event=event, now=now)
            return EventResult(outcome, told)
        return _page_paid(session, processor, checkout, event, now, posted)
    if event.kind == "payment_succeeded":
        outcome, told, paid = autopay.finish_processing(session=session, processor=processor,
                                                        event=event, now=now, posted=posted)
        return EventResult(outcome, told, paid)
    if event.kind == "refund_updated":
        outcome, told = apply_refund_status(session=session, processor=processor.name,
                                            refund_ref=event.ref, status=event.status,
                                            now=now, posted=posted)
        return EventResult(outcome, told)
    return EventResult("ignored")


def _page_paid(session: Session, processor: PaymentProcessor, checkout: Checkout, event: Event,
               now: datetime, posted: date) -> EventResult:
    if checkout.status not in (CheckoutStatus.OPEN, CheckoutStatus.EXPIRED):
        return EventResult("unchanged")  # posted (or sent for review) already
    if not event.paid or not event.payment_ref:
        return EventResult("awaiting_payment")  # a delayed method: its own event follows
    patient = session.get(Patient, checkout.patient_id)
    assert patient is not None
    matches = (event.amount == checkout.amount_cents and event.currency == CURRENCY
               and event.metadata.get("account") == patient.account_number)
    checkout.payment_ref, checkout.completed_at = event.payment_ref, now
    if not matches:
        checkout.status = CheckoutStatus.REVIEW
        return _review(session, processor, checkout.patient_id, checkout.sender_key, event, now)
    checkout.status = CheckoutStatus.COMPLETED
    done = post_processor_payment(session=session, processor=processor.name,
                                  patient_id=checkout.patient_id, amount=Cents(event.amount),
                                  payment_ref=event.payment_ref, posted=posted, now=now,
                                  installment_id=checkout.installment_id)
    if done is None:
        return EventResult("unchanged")
    receipt = notices.receipt(done.amount, done.due_now, done.credit)
    return EventResult("posted", [Notice(checkout.sender_key, (receipt,))], [done.patient_id])


def _unknown_page(session: Session, processor: PaymentProcessor, event: Event,
                  now: datetime) -> EventResult:
    """A page billbot never made: not ours unless it carries our reference, in which case a
    representative looks at the money (it is never posted)."""
    if not event.metadata.get("billbot_ref") or event.kind == "page_expired":
        return EventResult("ignored")
    patient = find_by_account_number(session, event.metadata.get("account", ""))
    audit.record(session, processor.name, "payment_for_review", patient.id if patient else None,
                 at=now, page=event.ref, reason="unknown page")
    if patient is None or not event.paid:
        return EventResult("review")
    if not patient.phone:
        return EventResult("review")
    return _review(session, processor, patient.id, sender_key("sms", patient.phone), event, now,
                   told=False)


def _review(session: Session, processor: PaymentProcessor, patient_id: int, sender: str,
            event: Event, now: datetime, told: bool = True) -> EventResult:
    escalate(session=session, sender_key=sender, channel=SenderKey.parse(sender).channel,
             patient_id=patient_id, reason=EscalationReason.PAYMENT_REVIEW, now=now,
             note="a processor payment did not match its checkout")
    audit.record(session, processor.name, "payment_for_review", patient_id, at=now,
                 page=event.ref, payment=event.payment_ref or "", amount_cents=int(event.amount))
    return EventResult("review", [Notice(sender, (notices.under_review(),))] if told else [])
