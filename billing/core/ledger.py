"""Plain value types of the ledger, shared by every billing rule (no I/O here)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from billing.core.money import Cents


class EntryType(StrEnum):
    CHARGE = "charge"
    INSURANCE_PAYMENT = "insurance_payment"
    INSURANCE_ADJUSTMENT = "insurance_adjustment"  # contractual adjustment
    PATIENT_PAYMENT = "patient_payment"
    PATIENT_ADJUSTMENT = "patient_adjustment"
    REFUND = "refund"


class ClaimStatus(StrEnum):
    PENDING = "pending"
    ADJUDICATED = "adjudicated"
    DENIED = "denied"
    SELF_PAY = "self_pay"


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    ISSUED = "issued"
    REJECTED = "rejected"


@dataclass(frozen=True)
class LineItem:
    """One ledger line. amount is always positive; its type gives its direction."""

    entry_id: str
    type: EntryType
    amount: Cents
    posted_date: date
    service_date: date | None = None
    cpt_code: str | None = None
    description: str | None = None
    provider: str | None = None
    claim_id: str | None = None
    claim_status: ClaimStatus | None = None  # on charges
    method: str | None = None  # on payments and refunds
    due_date: date | None = None  # on charges: when the patient share is due


@dataclass(frozen=True)
class CoverageTerms:
    payer: str
    member_id: str
    plan_name: str
    deductible: Cents
    deductible_met: Cents
    coinsurance_percent: Decimal  # patient's share after the deductible, e.g. Decimal("20")
    copay: Cents  # per visit; 0 where the plan uses coinsurance only
    out_of_pocket_max: Cents
    out_of_pocket_met: Cents
    effective_date: date
    termination_date: date | None = None

    def active_on(self, day: date) -> bool:
        return self.effective_date <= day and (
            self.termination_date is None or day <= self.termination_date
        )


@dataclass(frozen=True)
class RefundRecord:
    refund_id: str
    amount: Cents
    status: RefundStatus
    requested_date: date
    issued_date: date | None = None
    method: str | None = None
