"""What a patient owes: the account total, what is due now, what waits on insurance, per visit.

Pure rules over ledger LineItems (no I/O). Amounts are integer cents. Money not tied to a visit
is applied by the one allocation rule (billing.core.allocation), so the visits' remaining amounts
always add up to what is due now.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from billing.core.allocation import TRANSFER, Applied, OpenShare, Source, allocate
from billing.core.ledger import ClaimStatus, EntryType, LineItem
from billing.core.money import ZERO, Cents, cents, total

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
    """One claim (or one charge without a claim id), itemised after allocation.

    For a visit not pending insurance:
        charge - insurance_paid - adjustments - patient_paid + refunded + overpaid = remaining
    and for a pending one the same left side is pending_insurance.
    """

    claim_id: str | None
    service_date: date | None
    description: str  # e.g. "Office visit (99213)"; several lines joined with "; "
    provider: str | None
    claim_status: ClaimStatus | None
    lines: tuple[LineItem, ...]  # its own lines: charges first, then those carrying its claim
    charge: Cents
    insurance_paid: Cents  # on the claim, plus any insurer money applied from the account
    adjustments: Cents  # contractual + patient adjustments, on the claim and from the account
    patient_share: Cents  # charge - the claim's insurance payments and contractual adjustment
    patient_paid: Cents  # on the claim, plus account-level payments applied to it
    remaining: Cents  # what the patient still owes on it after allocation (0 while pending)
    pending_insurance: Cents  # amount awaiting adjudication on it (0 unless pending)
    due_date: date | None  # earliest due date on its charge lines
    insurance_adjustments: Cents = ZERO  # the insurer's contractual write-off on the claim
    refunded: Cents = ZERO  # refunds posted against this claim
    overpaid: Cents = ZERO  # its own lines paid beyond what it needed: moved to the account's pool
    applied: tuple[Applied, ...] = ()  # account-level money applied to it, in posting order

    @property
    def entry_ids(self) -> tuple[str, ...]:
        return tuple(i.entry_id for i in self.lines)

    @property
    def allowed(self) -> Cents:
        """The amount the insurer allows: the charge less its contractual adjustment."""
        return cents(self.charge - self.insurance_adjustments)

    @property
    def from_account(self) -> Cents:
        return total(a.amount for a in self.applied)


@dataclass(frozen=True)
class Balance:
    """total = due_now + pending_insurance - credit, always."""

    total: Cents  # charges - payments - adjustments + refunds (negative = credit)
    due_now: Cents  # the visits' remaining amounts + refunded_beyond_credit
    pending_insurance: Cents
    credit: Cents  # money on the account that no open share needs (held while claims pend)
    refunded_beyond_credit: Cents  # refunds with no payment left to return: owed again, now
    due_date: date | None  # the oldest due date still open after allocation
    visits: tuple[VisitLine, ...]  # ordered by service date (undated last)

    def visit(self, claim_id: str) -> VisitLine | None:
        return next((v for v in self.visits if v.claim_id == claim_id), None)


def account_total(items: Iterable[LineItem]) -> Cents:
    """Net of all items in cents: charges and refunds add, payments and adjustments subtract."""
    return cents(sum(SIGN[i.type] * i.amount for i in items))


def _label(item: LineItem) -> str:
    text = (item.description or "").strip() or "Service"
    return f"{text} ({item.cpt_code})" if item.cpt_code else text


def _distinct(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


@dataclass(frozen=True)
class _Own:
    """A visit from its own lines alone, before allocation."""

    key: str
    charges: list[LineItem]
    claim_lines: list[LineItem]

    def sum_of(self, kind: EntryType) -> Cents:
        return total(i.amount for i in self.claim_lines if i.type is kind)

    @property
    def status(self) -> ClaimStatus | None:
        statuses = {c.claim_status for c in self.charges if c.claim_status is not None}
        return next((s for s in _STATUS_ORDER if s in statuses), None)

    @property
    def net(self) -> Cents:
        return cents(total(c.amount for c in self.charges) + self.sum_of(EntryType.REFUND)
                     - total(self.sum_of(k) for k in _CREDITS))

    @property
    def due_date(self) -> date | None:
        dues = [c.due_date for c in self.charges if c.due_date]
        return min(dues) if dues else None

    @property
    def service_date(self) -> date | None:
        dates = [c.service_date for c in self.charges if c.service_date]
        return min(dates) if dates else None

    def overpayment(self) -> Source | None:
        if self.net >= 0:
            return None
        last = max((i for i in self.claim_lines if i.type in _CREDITS),
                   key=lambda i: (i.posted_date, i.entry_id))
        return Source(last.entry_id, TRANSFER, last.posted_date, cents(-self.net),
                      from_visit=self.key)


_CREDITS = (EntryType.INSURANCE_PAYMENT, EntryType.INSURANCE_ADJUSTMENT,
            EntryType.PATIENT_PAYMENT, EntryType.PATIENT_ADJUSTMENT)


def _visit(own: _Own, applied: tuple[Applied, ...]) -> VisitLine:
    def from_account(*kinds: str) -> Cents:
        return total(a.amount for a in applied if a.kind in kinds)

    charge = total(c.amount for c in own.charges)
    ins_paid = own.sum_of(EntryType.INSURANCE_PAYMENT)
    ins_adj = own.sum_of(EntryType.INSURANCE_ADJUSTMENT)
    pending = own.status is ClaimStatus.PENDING
    net = own.net
    providers = _distinct(c.provider for c in own.charges if c.provider)
    return VisitLine(
        claim_id=None if own.key.startswith("#") else own.key,
        service_date=own.service_date,
        description="; ".join(_distinct(_label(c) for c in own.charges)),
        provider=", ".join(providers) if providers else None,
        claim_status=own.status,
        lines=(*own.charges, *own.claim_lines),
        charge=charge,
        insurance_paid=cents(ins_paid + from_account(EntryType.INSURANCE_PAYMENT)),
        adjustments=cents(ins_adj + own.sum_of(EntryType.PATIENT_ADJUSTMENT)
                          + from_account(EntryType.INSURANCE_ADJUSTMENT,
                                         EntryType.PATIENT_ADJUSTMENT)),
        patient_share=ZERO if pending else cents(charge - ins_paid - ins_adj),
        patient_paid=cents(own.sum_of(EntryType.PATIENT_PAYMENT)
                           + from_account(EntryType.PATIENT_PAYMENT, TRANSFER)),
        remaining=ZERO if pending else cents(max(ZERO, net) - total(a.amount for a in applied)),
        pending_insurance=max(ZERO, net) if pending else ZERO,
        due_date=own.due_date,
        insurance_adjustments=ins_adj,
        refunded=own.sum_of(EntryType.REFUND),
        overpaid=max(ZERO, cents(-net)),
        applied=applied,
    )


def visit_key(item: LineItem) -> str:
    """A charge's visit: its claim, else the line itself (the same key the reminder SQL uses)."""
    return item.claim_id or f"#{item.entry_id}"


def _order(v: VisitLine) -> tuple[bool, date, str, tuple[str, ...]]:
    return (v.service_date is None, v.service_date or date.min, v.claim_id or "", v.entry_ids)


def compute_balance(items: Iterable[LineItem]) -> Balance:
    """Group the ledger into visits, allocate the money not tied to one, and total it.

    Charges sharing a claim_id form one visit; a charge without one is a visit of its own.
    Lines carrying the claim_id of a visit apply to it; the rest go through billing.core.allocation.
    """
    items = list(items)
    own: dict[str, _Own] = {}
    for it in items:
        if it.type is EntryType.CHARGE:
            key = visit_key(it)
            own.setdefault(key, _Own(key, [], [])).charges.append(it)
    sources: list[Source] = []
    refunds: list[tuple[Cents, date]] = []
    for it in items:
        if it.type is EntryType.CHARGE:
            continue
        if it.claim_id and it.claim_id in own:
            own[it.claim_id].claim_lines.append(it)
        elif it.type is EntryType.REFUND:
            refunds.append((it.amount, it.posted_date))
        else:
            sources.append(Source(it.entry_id, it.type.value, it.posted_date, it.amount))
    shares = []
    for o in own.values():
        if o.status is not ClaimStatus.PENDING and o.net > 0:
            shares.append(OpenShare(o.key, o.net, o.due_date, o.service_date))
        if (moved := o.overpayment()) is not None:
            sources.append(moved)
    allocation = allocate(shares, sources, refunds)
    visits = tuple(sorted((_visit(o, allocation.applied.get(o.key, ())) for o in own.values()),
                          key=_order))
    remaining = total(v.remaining for v in visits)
    dues = [v.due_date for v in visits if v.remaining > 0 and v.due_date]
    return Balance(
        total=account_total(items),
        due_now=cents(remaining + allocation.refunded_beyond_credit),
        pending_insurance=total(v.pending_insurance for v in visits),
        credit=allocation.credit,
        refunded_beyond_credit=allocation.refunded_beyond_credit,
        due_date=min(dues) if dues else None,
        visits=visits,
    )
