"""The verified account beside a conversation: balance, visits, plan, refunds, disputes,
coverage, pending insurance changes and the billing checks' findings (the representative's
own included), read once per page as plain values."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import AccountSnapshot, load_snapshot
from billing.core.balances import Balance, compute_balance
from billing.core.discrepancies import Finding
from billing.core.ledger import RefundStatus
from billing.core.promises import PromisePolicy
from billing.db.models import Patient
from billing.findings import account_findings
from billing.insurance_changes.enums import InsuranceChangeStatus
from billing.insurance_changes.models import InsuranceChange
from billing.price_list_store import load_clinic_prices


@dataclass(frozen=True)
class PendingChange:
    change_id: int
    payer: str
    member_id: str


@dataclass(frozen=True)
class AccountSummary:
    snapshot: AccountSnapshot
    balance: Balance
    last_name: str
    active_coverages: tuple
    pending_changes: tuple[PendingChange, ...]
    findings: tuple[Finding, ...] = ()  # every check, against the clinic's price list too
    email_status: str | None = None  # the email address bounced or unsubscribed: why email stops

    @property
    def requested_refunds(self):
        return tuple(r for r in self.snapshot.refunds if r.status == RefundStatus.REQUESTED)


def account_summary(session: Session, patient_id: int, today: date,
                    policy: PromisePolicy) -> AccountSummary:
    """What a representative sees of an account: balance
    snapshot, patient, pending changes and more."""
    snap = load_snapshot(session, patient_id)
    patient = session.get(Patient, patient_id)
    changes = session.scalars(
        select(InsuranceChange)
        .where(InsuranceChange.patient_id == patient_id, InsuranceChange.status == InsuranceChangeStatus.PENDING)
        .order_by(InsuranceChange.created_at, InsuranceChange.id)
    )
    return AccountSummary(
        snapshot=snap,
        balance=compute_balance(snap.items),
        last_name=patient.last_name,
        active_coverages=tuple(c for c in snap.coverages if c.active_on(today)),
        pending_changes=tuple(PendingChange(c.id, c.payer, c.member_id) for c in changes),
        findings=tuple(account_findings(snap, load_clinic_prices(session), policy, today)),
        email_status=email_status(patient),
    )


def email_status(patient: Patient) -> str | None:
    """For the representative: the patient's email is failing (bounced) or unsubscribed."""
    if patient.email_failing_at is not None:
        return (f"Email failing: bounced {patient.email_failing_at:%Y-%m-%d} "
                f"({patient.email_failure or 'no code'})")
    if patient.email_opted_out_at is not None:
        return f"Email unsubscribed {patient.email_opted_out_at:%Y-%m-%d}"
    return None
