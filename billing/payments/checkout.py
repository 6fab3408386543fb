"""Pay by link: a hosted checkout page for exactly what the patient asked to pay (all that is
due now, a stated part of it, or the next plan installment), stored with where the receipt
goes. The amount is checked against what the allocation rule says is due now; a refused
request makes no page. The caller owns the transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.core.money import Cents
from billing.db.models import Patient
from billing.errors import RequestError
from billing.payment_plans.enums import InstallmentStatus, PlanStatus
from billing.payment_plans.models import PaymentPlan, PlanInstallment
from billing.payments.enums import Purpose
from billing.payments.models import Checkout
from billing.payments.processor import NO_CENTS, PageRequest, PaymentProcessor
from clinic.wording import text


@dataclass(frozen=True)
class PageSettings:
    """The clinic's checkout settings, as values (the caller reads them from Settings)."""

    ttl_minutes: int
    success_url: str
    cancel_url: str
    descriptor: str


@dataclass(frozen=True)
class OpenedPage:
    """A stored checkout and the page's address (sent to the patient, never stored)."""

    checkout: Checkout
    url: str


class PaymentRefused(RequestError):
    """A payment request that makes no page; kind says why (not_positive, nothing_due,
    over_owed, no_installment), due_now what is owed."""

    def __init__(self, kind: str, due_now: Cents = NO_CENTS, amount: Cents = NO_CENTS):
        super().__init__(kind)
        self.kind, self.due_now, self.amount = kind, due_now, amount


def next_installment(session: Session, patient_id: int) -> PlanInstallment | None:
    """The first unpaid installment of the account's active plan."""
    return session.scalars(
        select(PlanInstallment).join(PaymentPlan)
        .where(PaymentPlan.patient_id == patient_id, PaymentPlan.status == PlanStatus.ACTIVE,
               PlanInstallment.status != InstallmentStatus.PAID)
        .order_by(PlanInstallment.seq)
    ).first()


def request_payment(*, session: Session, processor: PaymentProcessor, patient_id: int,
                    amount: Cents | None, installment: bool, sender_key: str, now: datetime,
                    page: PageSettings) -> OpenedPage:
    """A checkout for `amount` (None: all that is due now), or for the next installment.
    PaymentRefused when the amount is zero or less, above what is owed, or nothing is due."""
    if amount is not None and amount <= 0:
        raise PaymentRefused("not_positive")
    due_now = compute_balance(load_items(session, patient_id)).due_now
    chosen: PlanInstallment | None = None
    if installment:
        chosen = next_installment(session, patient_id)
        if chosen is None:
            raise PaymentRefused("no_installment", due_now)
        amount = Cents(min(chosen.amount_cents, due_now))
    if due_now <= 0:
        raise PaymentRefused("nothing_due", due_now)
    if amount is None:
        amount = due_now
    if amount > due_now:
        raise PaymentRefused("over_owed", due_now, amount)
    if amount <= 0:
        raise PaymentRefused("nothing_due", due_now)
    purpose = (Purpose.INSTALLMENT if chosen is not None
               else Purpose.BALANCE if amount == due_now else Purpose.PARTIAL)
    return open_page(session=session, processor=processor, patient_id=patient_id,
                     amount=amount, purpose=purpose, installment=chosen,
                     sender_key=sender_key, now=now, page=page)


def open_page(*, session: Session, processor: PaymentProcessor, patient_id: int, amount: Cents,
              purpose: Purpose, installment: PlanInstallment | None, sender_key: str,
              now: datetime, page: PageSettings, customer_ref: str | None = None,
              plan_id: int | None = None) -> OpenedPage:
    """Ask the processor for the page and keep it (ProcessorError: nothing is kept)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise RequestError("no such account")
    reference = uuid.uuid4().hex
    metadata = {"installment": str(installment.id)} if installment is not None else {}
    if plan_id is not None:
        metadata["plan"] = str(plan_id)
    hosted = processor.create_page(PageRequest(
        account_number=patient.account_number, purpose=purpose.value, amount=amount,
        reference=reference, description=_description(purpose),
        expires_at=now + timedelta(minutes=page.ttl_minutes),
        success_url=page.success_url, cancel_url=page.cancel_url, descriptor=page.descriptor,
        customer_ref=customer_ref, metadata=metadata,
    ))
    checkout = Checkout(
        processor=processor.name, session_ref=hosted.ref, patient_id=patient_id,
        purpose=purpose, amount_cents=amount,
        installment_id=installment.id if installment is not None else None,
        plan_id=plan_id if plan_id is not None else (
            installment.plan_id if installment is not None else None),
        sender_key=sender_key, expires_at=hosted.expires_at, created_at=now,
    )
    session.add(checkout)
    session.flush()
    audit.record(session, "bot", "payment_link_sent", patient_id, at=now,
                 purpose=purpose.value, amount_cents=int(amount), checkout=checkout.id)
    return OpenedPage(checkout, hosted.url)


def _description(purpose: Purpose) -> str:
    """The line item the hosted page shows the patient."""
    return text({Purpose.INSTALLMENT: "pay.item.installment",
                 Purpose.SETUP: "pay.item.setup"}.get(purpose, "pay.item.bill"))
