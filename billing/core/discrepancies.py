"""Checks for likely billing errors on an account: duplicates, unapplied payments and the like.

Pure rules over ledger lines, coverage terms and refund records; each finding carries a plain,
SMS-sized summary with no patient name in it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from billing.core.balances import Balance, VisitLine, compute_balance
from billing.core.insurance import patient_responsibility
from billing.core.ledger import (
    ClaimStatus,
    CoverageTerms,
    EntryType,
    LineItem,
    RefundRecord,
    RefundStatus,
)
from billing.core.money import ZERO, Cents, cents, fmt, total

KINDS = (
    "duplicate_charge",
    "billed_while_pending",
    "share_above_terms",
    "credit_not_refunded",
    # representatives only (billing.core.coding_checks):
    "code_not_on_chargemaster",
    "price_differs",
    "payer_underpayment",
    "insurance_paid_short",
)


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS (or of billing.core.promises.KINDS)
    entry_ids: tuple[str, ...]
    amount: Cents
    summary: str  # plain words, no markdown, no patient name
    for_patient: bool = True  # False: the clinic's or the payer's problem, for representatives


def _day(d: date | None) -> str:
    return f"{d:%b} {d.day}, {d.year}" if d else "an unknown date"


def _what(v: VisitLine) -> str:
    return f"the {_day(v.service_date)} visit" if v.service_date else "a visit"


def duplicate_charges(items: Sequence[LineItem]) -> list[Finding]:
    """Charges with the same CPT code, service date and provider; the first posted is kept."""
    groups: dict[tuple[str, date, str | None], list[LineItem]] = {}
    for it in items:
        if it.type is EntryType.CHARGE and it.cpt_code and it.service_date:
            groups.setdefault((it.cpt_code, it.service_date, it.provider), []).append(it)
    findings = []
    for (code, day, _), lines in groups.items():
        if len(lines) < 2:
            continue
        lines.sort(key=lambda i: (i.posted_date, i.entry_id))
        extra = total(i.amount for i in lines[1:])
        name = (lines[0].description or "service").strip()
        findings.append(Finding(
            "duplicate_charge",
            tuple(i.entry_id for i in lines),
            extra,
            f"{name} ({code}) on {_day(day)} is billed {len(lines)} times. "
            f"The extra {fmt(extra)} looks like a duplicate.",
        ))
    return findings


def billed_while_pending(items: Sequence[LineItem], balance: Balance) -> list[Finding]:
    """A charge still pending with insurance that already carries a due date (was billed).

    One finding per pending visit; the amount is what is still pending on it.
    """
    findings = []
    for v in balance.visits:
        if v.claim_status is not ClaimStatus.PENDING or v.pending_insurance <= 0:
            continue
        billed = tuple(
            i.entry_id for i in items
            if i.type is EntryType.CHARGE and i.entry_id in v.entry_ids and i.due_date
            and i.claim_status is ClaimStatus.PENDING
        )
        if billed:
            findings.append(Finding(
                "billed_while_pending",
                billed,
                v.pending_insurance,
                f"{fmt(v.pending_insurance)} for {_what(v)} was billed to you with a due date, "
                "but insurance has not finished processing that claim.",
            ))
    return findings


def _coverage_on(day: date | None, coverages: Sequence[CoverageTerms]) -> CoverageTerms | None:
    active = [c for c in coverages if day and c.active_on(day)]
    return max(active, key=lambda c: c.effective_date) if active else None


def share_above_terms(
    items: Sequence[LineItem], balance: Balance, coverages: Sequence[CoverageTerms]
) -> list[Finding]:
    """Adjudicated visits whose patient share is more than the coverage terms allow.

    The coverage's deductible_met and out_of_pocket_met are today's figures, which already
    include what this visit (and later ones) put toward them. To stay conservative the terms
    are re-applied as they could have stood at the visit at the very most: both "met" figures
    are reduced by the patient shares of this visit and of every later adjudicated visit
    under the same coverage. That gives the largest share the terms could justify; only
    an excess beyond it (plus one cent per charge line of payer rounding) is reported.
    Visits without coverage active on their service date are not judged.
    """
    findings = []
    charge_ids = {i.entry_id for i in items if i.type is EntryType.CHARGE}
    judged = [(v, v.service_date) for v in balance.visits
              if v.claim_status is ClaimStatus.ADJUDICATED and v.service_date]
    for v, day in judged:
        terms = _coverage_on(day, coverages)
        if terms is None:
            continue
        since = total(
            w.patient_share for w, w_day in judged
            if w_day >= day and _coverage_on(w_day, coverages) == terms
        )
        then = _replace_met(terms, since)
        allowed_share = patient_responsibility(v.allowed, then, day).patient_total
        lines = sum(e in charge_ids for e in v.entry_ids)
        excess = cents(v.patient_share - allowed_share)
        if excess > lines:
            findings.append(Finding(
                "share_above_terms",
                v.entry_ids,
                excess,
                f"Your share of {_what(v)} is {fmt(v.patient_share)}, but your plan terms "
                f"allow at most {fmt(allowed_share)}. That is {fmt(excess)} too much.",
            ))
    return findings


def _replace_met(terms: CoverageTerms, amount: Cents) -> CoverageTerms:
    return replace(
        terms,
        deductible_met=max(ZERO, cents(terms.deductible_met - amount)),
        out_of_pocket_met=max(ZERO, cents(terms.out_of_pocket_met - amount)),
    )


def credit_not_refunded(
    items: Sequence[LineItem], balance: Balance, refunds: Sequence[RefundRecord]
) -> list[Finding]:
    """Account credit that no refund (requested, approved, or issued but not yet posted) covers
    and no claim still waiting on insurance may need.

    The credit is what the allocation rule left after paying every open share. Issued refunds
    normally appear in the ledger as refund lines and have already cut it, so only the issued
    amount beyond the posted refund lines still counts. A practice holds credit while a claim
    pends (the patient's share of it is not known yet), so that much is not reported.
    """
    if balance.credit <= 0:
        return []
    in_flight = total(r.amount for r in refunds
                      if r.status in (RefundStatus.REQUESTED, RefundStatus.APPROVED))
    issued = total(r.amount for r in refunds if r.status is RefundStatus.ISSUED)
    posted = total(i.amount for i in items if i.type is EntryType.REFUND)
    held = balance.pending_insurance
    uncovered = cents(balance.credit - in_flight - max(0, issued - posted) - held)
    if uncovered <= 0:
        return []
    overpaid = {e for v in balance.visits if v.overpaid for e in v.entry_ids}
    on_visits = {e for v in balance.visits for e in v.entry_ids}
    ids = tuple(
        i.entry_id for i in items
        if i.type in (EntryType.PATIENT_PAYMENT, EntryType.PATIENT_ADJUSTMENT)
        and (i.entry_id in overpaid or i.entry_id not in on_visits)
    )
    return [Finding(
        "credit_not_refunded",
        ids,
        uncovered,
        f"Your account has a credit of {fmt(balance.credit)}, and {fmt(uncovered)} of it "
        "has no refund on the way.",
    )]


def find_discrepancies(
    items: Iterable[LineItem],
    coverages: Sequence[CoverageTerms],
    refunds: Sequence[RefundRecord],
) -> list[Finding]:
    """Every finding of these checks on the account, in the order of KINDS. The checks against
    the clinic's price list and contracts (billing.core.coding_checks) and the late promises
    (billing.core.promises) join them in billing.findings.account_findings."""
    items = list(items)
    balance = compute_balance(items)
    return [
        *duplicate_charges(items),
        *billed_while_pending(items, balance),
        *share_above_terms(items, balance, coverages),
        *credit_not_refunded(items, balance, refunds),
    ]
