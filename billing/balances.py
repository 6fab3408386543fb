"""What a patient owes: the account total, what is due now, what waits on insurance, per visit.

Pure rules over ledger LineItems (no I/O). Amounts are integer cents.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from billing.ledger import ClaimStatus, EntryType, LineItem
from billing.money import Cents

# Direction of each entry type in the account total: charges and refunds raise what is owed.
SIGN: dict[EntryType, int] = {
    EntryType.CHARGE: 1,
    EntryType.INSURANCE_PAYMENT: -1,
    EntryType.INSURANCE_ADJUSTMENT: -1,
    EntryType.PATIENT_PAYMENT: -1,
    EntryType.PATIENT_ADJUSTMENT: -1,
    EntryType.REFUND: 1,
}

# When a claim's charge lines disagree on status, the least settled one describes the visit.
_STATUS_ORDER = (
    ClaimStatus.PENDING,
    ClaimStatus.DENIED,
    ClaimStatus.SELF_PAY,
    ClaimStatus.ADJUDICATED,
)


@dataclass(frozen=True)
class VisitLine:
    """One claim (or one charge without a claim id), itemised."""

    claim_id: str | None
    service_date: date | None
    description: str  # e.g. "Office visit (99213)"; several lines joined with "; "
    provider: str | None
    claim_status: ClaimStatus | None
    entry_ids: tuple[str, ...]  # charges first, then the lines applied to them, in ledger order
    charge: Cents
    insurance_paid: Cents
    adjustments: Cents  # insurance contractual + patient adjustments on the claim
    patient_share: Cents  # charge - insurance_paid - insurance adjustments (0 while pending)
    patient_paid: Cents
    remaining: Cents  # what the patient still owes on it (0 while pending, never negative)
    pending_insurance: Cents  # amount awaiting adjudication on it (0 unless pending)
    due_date: date | None  # earliest due date on its charge lines

    insurance_adjustments: Cents = 0  # the insurer's contractual write-off on the claim

    @property
    def allowed(self) -> Cents:
        """The amount the insurer allows: the charge less its contractual adjustment."""
        return self.charge - self.insurance_adjustments

    @property
    def net(self) -> Cents:
        """This visit's contribution to the account total (negative when overpaid)."""
        return self.charge - self.insurance_paid - self.adjustments - self.patient_paid

    @property
    def overpaid(self) -> Cents:
        """Patient money on this visit beyond what it needed: it is account credit."""
        return max(0, -self.net)


@dataclass(frozen=True)
class Balance:
    total: Cents  # charges - payments - adjustments + refunds (negative = credit)
    due_now: Cents  # max(0, total - pending_insurance)
    pending_insurance: Cents
    credit: Cents  # max(0, -total)
    unapplied_payments: Cents  # patient payments not tied to any visit on the account
    due_date: date | None  # earliest due date among visits with remaining > 0
    visits: tuple[VisitLine, ...]  # ordered by service date (undated last)

    def visit(self, claim_id: str) -> VisitLine | None:
        return next((v for v in self.visits if v.claim_id == claim_id), None)


def account_total(items: Iterable[LineItem]) -> Cents:
    return sum(SIGN[i.type] * i.amount for i in items)


def _label(item: LineItem) -> str:
    text = (item.description or "").strip() or "Service"
    return f"{text} ({item.cpt_code})" if item.cpt_code else text


def _distinct(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def _visit(key_claim: str | None, charges: list[LineItem], applied: list[LineItem]) -> VisitLine:
    def total(kind: EntryType) -> Cents:
        return sum(i.amount for i in applied if i.type is kind)

    charge = sum(c.amount for c in charges)
    ins_paid = total(EntryType.INSURANCE_PAYMENT)
    ins_adj = total(EntryType.INSURANCE_ADJUSTMENT)
    pat_adj = total(EntryType.PATIENT_ADJUSTMENT)
    pat_paid = total(EntryType.PATIENT_PAYMENT)
    statuses = {c.claim_status for c in charges if c.claim_status is not None}
    status = next((s for s in _STATUS_ORDER if s in statuses), None)
    outstanding = charge - ins_paid - ins_adj - pat_adj - pat_paid
    pending = status is ClaimStatus.PENDING
    share = 0 if pending else charge - ins_paid - ins_adj
    providers = _distinct(c.provider for c in charges if c.provider)
    dates = [c.service_date for c in charges if c.service_date]
    dues = [c.due_date for c in charges if c.due_date]
    return VisitLine(
        claim_id=key_claim,
        service_date=min(dates) if dates else None,
        description="; ".join(_distinct(_label(c) for c in charges)),
        provider=", ".join(providers) if providers else None,
        claim_status=status,
        entry_ids=tuple(i.entry_id for i in [*charges, *applied]),
        charge=charge,
        insurance_paid=ins_paid,
        adjustments=ins_adj + pat_adj,
        patient_share=share,
        patient_paid=pat_paid,
        remaining=0 if pending else max(0, outstanding),
        pending_insurance=max(0, outstanding) if pending else 0,
        due_date=min(dues) if dues else None,
        insurance_adjustments=ins_adj,
    )


def _order(v: VisitLine) -> tuple:
    return (v.service_date is None, v.service_date or date.min, v.claim_id or "", v.entry_ids)


def compute_balance(items: Iterable[LineItem]) -> Balance:
    """Group the ledger into visits and total it.

    Charges sharing a claim_id form one visit; a charge without one is a visit of its own.
    Payments and adjustments carrying the claim_id of a visit apply to it; the rest are
    unapplied (they still count in the account total).
    """
    items = list(items)
    charges: dict[str, list[LineItem]] = {}
    for it in items:
        if it.type is EntryType.CHARGE:
            charges.setdefault(it.claim_id or f"\0{it.entry_id}", []).append(it)
    applied: dict[str, list[LineItem]] = {key: [] for key in charges}
    unapplied_payments = 0
    for it in items:
        if it.type in (EntryType.CHARGE, EntryType.REFUND):
            continue
        if it.claim_id and it.claim_id in charges:
            applied[it.claim_id].append(it)
        elif it.type is EntryType.PATIENT_PAYMENT:
            unapplied_payments += it.amount
    visits = tuple(
        sorted(
            (
                _visit(None if key.startswith("\0") else key, lines, applied[key])
                for key, lines in charges.items()
            ),
            key=_order,
        )
    )
    total = account_total(items)
    pending = sum(v.pending_insurance for v in visits)
    dues = [v.due_date for v in visits if v.remaining > 0 and v.due_date]
    return Balance(
        total=total,
        due_now=max(0, total - pending),
        pending_insurance=pending,
        credit=max(0, -total),
        unapplied_payments=unapplied_payments,
        due_date=min(dues) if dues else None,
        visits=visits,
    )
