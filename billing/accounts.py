"""Reading an account out of the database into the ledger's plain types, and posting payments.

Callers own the session and the transaction; nothing here commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.ledger import (
    ClaimStatus,
    CoverageTerms,
    EntryType,
    LineItem,
    RefundRecord,
    RefundStatus,
)
from billing.core.money import Cents
from billing.db.models import Coverage, LedgerEntry, Patient
from billing.disputes.enums import DisputeStatus
from billing.disputes.models import Dispute
from billing.ledger_posting import post_line
from billing.payment_plans.enums import InstallmentStatus, PlanStatus
from billing.payment_plans.models import PaymentPlan, PlanInstallment
from billing.refunds.models import Refund

PAYMENT_METHODS = frozenset({"card", "ach", "check", "cash", "hsa", "fsa", "online", "other"})


class UnknownAccount(LookupError):
    """No patient with that id or account number."""


class UnknownClaim(ValueError):
    """A claim id that is on none of the account's charges."""


class InvalidPayment(ValueError):
    """A payment that cannot be posted (amount not positive, unknown method)."""


@dataclass(frozen=True)
class PlanSummary:
    plan_id: int
    total: Cents
    monthly: Cents
    months: int
    start_date: date
    status: str
    next_due: date | None  # earliest installment not yet paid
    remaining_installments: int  # installments not yet paid (scheduled or missed)


@dataclass(frozen=True)
class DisputeSummary:
    reference: str
    status: str
    amount: Cents
    opened_at: datetime


@dataclass(frozen=True)
class AccountSnapshot:
    patient_id: int
    account_number: str
    first_name: str
    timezone: str
    items: tuple[LineItem, ...]
    coverages: tuple[CoverageTerms, ...]
    refunds: tuple[RefundRecord, ...]
    active_plan: PlanSummary | None
    open_disputes: tuple[DisputeSummary, ...]


def line_item(e: LedgerEntry) -> LineItem:
    """The ledger row as a core LineItem, the plain value the balance code works on."""
    return LineItem(
        entry_id=e.entry_id,
        type=EntryType(e.type),
        amount=e.amount_cents,
        posted_date=e.posted_date,
        service_date=e.service_date,
        cpt_code=e.cpt_code,
        description=e.description,
        provider=e.provider,
        claim_id=e.claim_id,
        claim_status=ClaimStatus(e.claim_status) if e.claim_status else None,
        method=e.method,
        due_date=e.due_date,
    )


def coverage_terms(c: Coverage) -> CoverageTerms:
    """The coverage row as core CoverageTerms (amounts in cents, coinsurance as Decimal)."""
    return CoverageTerms(
        payer=c.payer,
        member_id=c.member_id,
        plan_name=c.plan_name,
        deductible=c.deductible_cents,
        deductible_met=c.deductible_met_cents,
        coinsurance_percent=Decimal(c.coinsurance_percent),
        copay=c.copay_cents,
        out_of_pocket_max=c.out_of_pocket_max_cents,
        out_of_pocket_met=c.out_of_pocket_met_cents,
        effective_date=c.effective_date,
        termination_date=c.termination_date,
    )


def refund_record(r: Refund) -> RefundRecord:
    """The refund row as a core RefundRecord with a typed status."""
    return RefundRecord(
        refund_id=r.refund_id,
        amount=r.amount_cents,
        status=RefundStatus(r.status),
        requested_date=r.requested_date,
        issued_date=r.issued_date,
        method=r.method,
    )


def load_items(session: Session, patient_id: int) -> tuple[LineItem, ...]:
    """All ledger entries of the patient as LineItems, oldest posting first."""
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.patient_id == patient_id)
        .order_by(LedgerEntry.posted_date, LedgerEntry.id)
    )
    return tuple(line_item(e) for e in rows)


def _active_plan(session: Session, patient_id: int) -> PlanSummary | None:
    plan = session.scalars(
        select(PaymentPlan)
        .where(PaymentPlan.patient_id == patient_id, PaymentPlan.status == PlanStatus.ACTIVE)
        .order_by(PaymentPlan.created_at.desc(), PaymentPlan.id.desc())
        .limit(1)
    ).first()
    if plan is None:
        return None
    unpaid = session.scalars(
        select(PlanInstallment)
        .where(PlanInstallment.plan_id == plan.id, PlanInstallment.status != InstallmentStatus.PAID)
        .order_by(PlanInstallment.seq)
    ).all()
    return PlanSummary(
        plan_id=plan.id,
        total=plan.total_cents,
        monthly=plan.monthly_cents,
        months=plan.months,
        start_date=plan.start_date,
        status=plan.status,
        next_due=unpaid[0].due_date if unpaid else None,
        remaining_installments=len(unpaid),
    )


def load_snapshot(session: Session, patient_id: int) -> AccountSnapshot:
    """Everything the billing rules need about one account, as plain values."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise UnknownAccount(f"no patient with id {patient_id}")
    coverages = session.scalars(
        select(Coverage)
        .where(Coverage.patient_id == patient_id)
        .order_by(Coverage.effective_date, Coverage.id)
    )
    refunds = session.scalars(
        select(Refund).where(Refund.patient_id == patient_id).order_by(Refund.requested_date, Refund.id)
    )
    disputes = session.scalars(
        select(Dispute)
        .where(Dispute.patient_id == patient_id, Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.opened_at, Dispute.id)
    )
    return AccountSnapshot(
        patient_id=patient.id,
        account_number=patient.account_number,
        first_name=patient.first_name,
        timezone=patient.timezone,
        items=load_items(session, patient_id),
        coverages=tuple(coverage_terms(c) for c in coverages),
        refunds=tuple(refund_record(r) for r in refunds),
        active_plan=_active_plan(session, patient_id),
        open_disputes=tuple(
            DisputeSummary(d.reference, d.status, d.amount_cents, d.opened_at) for d in disputes
        ),
    )


def find_by_account_number(session: Session, account_number: str) -> Patient | None:
    """The patient with this account number (trimmed, upper-cased), or None."""
    return session.scalars(
        select(Patient).where(Patient.account_number == account_number.strip().upper())
    ).first()


def find_by_phone(session: Session, e164: str) -> list[Patient]:
    """Every patient on a phone number: families often share one."""
    return list(
        session.scalars(select(Patient).where(Patient.phone == e164).order_by(Patient.account_number))
    )


def find_by_telegram_chat(session: Session, chat_id: int) -> list[Patient]:
    """Patients linked to this Telegram chat (a family may share one), by account number."""
    return list(
        session.scalars(
            select(Patient)
            .where(Patient.telegram_chat_id == chat_id)
            .order_by(Patient.account_number)
        )
    )


def post_payment(
    *,
    session: Session,
    patient_id: int,
    amount: Cents,
    method: str,
    on: date,
    claim_id: str | None = None,
    entry_id: str | None = None,
) -> LedgerEntry:
    """Insert a patient_payment line. The patient row is locked (FOR UPDATE on PostgreSQL)
    so payments on one account are posted one after another, never lost."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidPayment("a payment must be a positive whole number of cents")
    if method not in PAYMENT_METHODS:
        raise InvalidPayment(f"unknown payment method {method!r}")
    patient = session.scalars(
        select(Patient).where(Patient.id == patient_id).with_for_update()
    ).first()
    if patient is None:
        raise UnknownAccount(f"no patient with id {patient_id}")
    if claim_id is not None:
        known = session.scalars(
            select(LedgerEntry.id).where(
                LedgerEntry.patient_id == patient_id,
                LedgerEntry.type == EntryType.CHARGE.value,
                LedgerEntry.claim_id == claim_id,
            ).limit(1)
        ).first()
        if known is None:
            raise UnknownClaim(f"claim {claim_id} is on none of this account's charges")
    return post_line(
        session=session, patient_id=patient_id, type=EntryType.PATIENT_PAYMENT, amount=amount,
        posted_date=on, entry_id=entry_id, claim_id=claim_id, method=method,
    )
