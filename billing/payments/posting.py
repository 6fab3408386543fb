"""A processor's payment in the ledger: one patient payment line whose entry id is the
processor's reference (so the same payment can never be posted twice, however many events or
job runs report it), the installment it paid, the audit row, and what is owed afterwards as
the allocation rule computes it from the database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import load_items, post_payment
from billing.core.balances import compute_balance
from billing.core.money import Cents
from billing.db.models import LedgerEntry
from billing.payment_plans.enums import InstallmentStatus, PlanStatus
from billing.payment_plans.models import PaymentPlan, PlanInstallment
from billing.payments.enums import MandateStatus
from billing.payments.models import AutopayMandate

METHOD = "card"  # hosted pages take cards; the entry id says which processor


def ledger_ref(processor: str, ref: str) -> str:
    """The entry id of a processor's payment or refund line: 'STRIPE-pi_...'."""
    return f"{processor.upper()}-{ref}"


@dataclass(frozen=True)
class PostedPayment:
    patient_id: int
    amount: Cents
    entry_id: str
    due_now: Cents  # after the payment, by the allocation rule
    credit: Cents


def post_processor_payment(*, session: Session, processor: str, patient_id: int,
                           amount: Cents, payment_ref: str, posted: date, now: datetime,
                           installment_id: int | None = None) -> PostedPayment | None:
    """Post the payment once; None when its line is already in the ledger."""
    entry_id = ledger_ref(processor, payment_ref)
    if session.scalars(select(LedgerEntry.id).where(LedgerEntry.entry_id == entry_id)).first():
        return None
    post_payment(session=session, patient_id=patient_id, amount=amount, method=METHOD,
                 on=posted, entry_id=entry_id)
    if installment_id is not None:
        mark_installment_paid(session, installment_id, now)
    balance = compute_balance(load_items(session, patient_id))
    if balance.due_now <= 0:
        _complete_plans(session, patient_id, now)
    audit.record(session, processor, "payment_received", patient_id, at=now,
                 amount_cents=int(amount), payment=payment_ref, entry=entry_id)
    return PostedPayment(patient_id, amount, entry_id, balance.due_now, balance.credit)


def mark_installment_paid(session: Session, installment_id: int, now: datetime) -> None:
    """The installment is paid; a plan whose installments are all paid is completed."""
    installment = session.get(PlanInstallment, installment_id)
    if installment is None:
        return
    installment.status = InstallmentStatus.PAID
    session.flush()
    plan = session.get(PaymentPlan, installment.plan_id)
    if plan is not None and all(i.status == InstallmentStatus.PAID for i in plan.installments):
        _finish(session, plan, now)


def _complete_plans(session: Session, patient_id: int, now: datetime) -> None:
    """Nothing is owed any more: the account's active plan has done its work."""
    for plan in session.scalars(select(PaymentPlan).where(
            PaymentPlan.patient_id == patient_id, PaymentPlan.status == PlanStatus.ACTIVE)):
        _finish(session, plan, now)


def _finish(session: Session, plan: PaymentPlan, now: datetime) -> None:
    plan.status = PlanStatus.COMPLETED
    for mandate in session.scalars(select(AutopayMandate).where(
            AutopayMandate.plan_id == plan.id, AutopayMandate.status != MandateStatus.STOPPED)):
        mandate.status, mandate.stopped_at = MandateStatus.STOPPED, now
    session.flush()
