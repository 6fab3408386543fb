"""The checks a representative does by hand against the clinic's price list and contracts:
coding mistakes, typing errors in amounts, payer underpayments and short insurance payments.

Pure rules over ledger lines, coverage terms and billing.core.price_lists values (no I/O). The
findings are the clinic's or the payer's problem, so they are marked for representatives
only (for_patient=False); their summaries name lines and amounts, never the patient.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from billing.core.chargemaster import PriceEntry
from billing.core.discrepancies import Finding
from billing.core.insurance import patient_responsibility
from billing.core.ledger import ClaimStatus, CoverageTerms, EntryType, LineItem
from billing.core.money import ZERO, Cents, cents, fmt, total
from billing.core.price_lists import ClinicPrices, FeeSchedule, base_code

KINDS = (
    "code_not_on_chargemaster",
    "price_differs",
    "payer_underpayment",
    "insurance_paid_short",
)


def _day(d: date | None) -> str:
    return f"{d:%b} {d.day}, {d.year}" if d else "an unknown date"


def _finding(kind: str, ids: Sequence[str], amount: Cents, summary: str) -> Finding:
    return Finding(kind, tuple(ids), amount, summary, for_patient=False)


def codes_not_on_chargemaster(
    items: Sequence[LineItem], chargemaster: Mapping[str, PriceEntry]
) -> list[Finding]:
    """A charge whose CPT code the clinic's chargemaster does not list: likely miscoded.

    The whole charge is at stake, since nothing says what it should have been. Charges
    without a code are not judged; with no chargemaster imported, nothing is.
    """
    if not chargemaster:
        return []
    return [
        _finding(
            "code_not_on_chargemaster", [i.entry_id], i.amount,
            f"Line {i.entry_id} ({_day(i.service_date)}) is billed {fmt(i.amount)} under "
            f"CPT {i.cpt_code}, which is not on the clinic's chargemaster.",
        )
        for i in items
        if i.type is EntryType.CHARGE and i.cpt_code and base_code(i.cpt_code) not in chargemaster
    ]


def prices_differ(
    items: Sequence[LineItem], chargemaster: Mapping[str, PriceEntry]
) -> list[Finding]:
    """A charge whose amount is not the chargemaster price for its code (1,800.00 for 180.00).

    One finding per line; the difference either way is at stake.
    """
    findings = []
    for i in items:
        if i.type is not EntryType.CHARGE or not i.cpt_code:
            continue
        entry = chargemaster.get(base_code(i.cpt_code))
        if entry is None or entry.price == i.amount:
            continue
        diff = cents(abs(i.amount - entry.price))
        findings.append(_finding(
            "price_differs", [i.entry_id], diff,
            f"Line {i.entry_id} bills CPT {entry.cpt_code} at {fmt(i.amount)}; the "
            f"chargemaster price is {fmt(entry.price)}. Off by {fmt(diff)}, maybe a typo.",
        ))
    return findings


@dataclass(frozen=True)
class _Claim:
    """One claim's lines as a payer sees them: what was billed, allowed and paid."""

    claim_id: str
    service_date: date  # the earliest of its charge lines
    charges: tuple[LineItem, ...]
    adjustments: tuple[LineItem, ...]  # the insurer's contractual write-offs
    payments: tuple[LineItem, ...]  # the insurer's payments

    @property
    def adjudicated(self) -> bool:
        return all(c.claim_status is ClaimStatus.ADJUDICATED for c in self.charges)

    @property
    def allowed(self) -> Cents:
        """The amount the payer allowed: the charges less its contractual adjustment."""
        return cents(total(c.amount for c in self.charges)
                     - total(a.amount for a in self.adjustments))

    @property
    def insurance_paid(self) -> Cents:
        return total(p.amount for p in self.payments)


def _claims(items: Sequence[LineItem]) -> list[_Claim]:
    """Adjudicated claims with a service date, in ledger order of their first charge."""
    by_claim: dict[str, dict[EntryType, list[LineItem]]] = {}
    for i in items:
        if i.type is EntryType.CHARGE and i.claim_id:
            by_claim.setdefault(i.claim_id, {}).setdefault(i.type, []).append(i)
    for i in items:
        if i.claim_id in by_claim and i.type in (
                EntryType.INSURANCE_ADJUSTMENT, EntryType.INSURANCE_PAYMENT):
            by_claim[i.claim_id].setdefault(i.type, []).append(i)
    claims = []
    for cid, lines in by_claim.items():
        days = [c.service_date for c in lines[EntryType.CHARGE] if c.service_date]
        if days:
            claims.append(_Claim(
                cid, min(days), tuple(lines[EntryType.CHARGE]),
                tuple(lines.get(EntryType.INSURANCE_ADJUSTMENT, ())),
                tuple(lines.get(EntryType.INSURANCE_PAYMENT, ())),
            ))
    return [c for c in claims if c.adjudicated]


def _coverage_on(day: date, coverages: Sequence[CoverageTerms]) -> CoverageTerms | None:
    """The coverage in force on a day; of two, the one that started last."""
    active = [c for c in coverages if c.active_on(day)]
    return max(active, key=lambda c: c.effective_date) if active else None


def payer_underpayments(
    items: Sequence[LineItem], coverages: Sequence[CoverageTerms], fee_schedule: FeeSchedule
) -> list[Finding]:
    """An adjudicated claim the payer allowed less on than its contract says, per claim.

    The contracted amount is the fee schedule's allowed amount for each charge line (payer of
    the coverage active on the claim's service date, the line's code and service date). A
    claim is judged only when every charge line has one, so a missing rate is never read as
    an underpayment; the shortfall (contracted - allowed) is at stake.
    """
    findings = []
    for claim in _claims(items):
        terms = _coverage_on(claim.service_date, coverages)
        if terms is None:
            continue
        rates = [
            fee_schedule.allowed_for(terms.payer, c.cpt_code, c.service_date or claim.service_date)
            if c.cpt_code else None
            for c in claim.charges
        ]
        if any(r is None for r in rates):
            continue
        contracted = total(r for r in rates if r is not None)
        shortfall = cents(contracted - claim.allowed)
        if shortfall > 0:
            findings.append(_finding(
                "payer_underpayment",
                [i.entry_id for i in (*claim.charges, *claim.adjustments)],
                shortfall,
                f"Claim {claim.claim_id} ({_day(claim.service_date)}): {terms.payer} allowed "
                f"{fmt(claim.allowed)}, the contract {fmt(contracted)}. Underpaid {fmt(shortfall)}.",
            ))
    return findings


def insurance_paid_short(
    items: Sequence[LineItem], coverages: Sequence[CoverageTerms]
) -> list[Finding]:
    """An adjudicated claim the insurer paid less on than its allowed amount less the
    patient's share under the coverage terms.

    The coverage's deductible_met and out_of_pocket_met are today's figures, which already
    include this claim and later ones. As in discrepancies.share_above_terms they are reduced
    by the patient shares of this and every later claim under the same coverage: that is the
    largest share the terms could justify, so the smallest payment the insurer owed, and only
    a shortfall beyond it (plus one cent per charge line of payer rounding) is reported.
    Claims without coverage active on their service date are not judged.
    """
    judged = [
        (claim, terms) for claim in _claims(items)
        if (terms := _coverage_on(claim.service_date, coverages)) is not None
    ]
    findings = []
    for claim, terms in judged:
        since = cents(sum(
            other.allowed - other.insurance_paid for other, t in judged
            if t == terms and other.service_date >= claim.service_date
        ))
        then = replace(
            terms,
            deductible_met=max(ZERO, cents(terms.deductible_met - since)),
            out_of_pocket_met=max(ZERO, cents(terms.out_of_pocket_met - since)),
        )
        allowed = max(ZERO, claim.allowed)
        patient = patient_responsibility(allowed, then, claim.service_date).patient_total
        expected = cents(allowed - patient)
        shortfall = cents(expected - claim.insurance_paid)
        if shortfall > len(claim.charges):
            findings.append(_finding(
                "insurance_paid_short",
                [i.entry_id for i in (*claim.charges, *claim.adjustments, *claim.payments)],
                shortfall,
                f"Claim {claim.claim_id} ({_day(claim.service_date)}): {terms.payer} paid "
                f"{fmt(claim.insurance_paid)}, at least {fmt(expected)} was due. "
                f"Short {fmt(shortfall)}.",
            ))
    return findings


def clinic_checks(
    items: Sequence[LineItem], coverages: Sequence[CoverageTerms], clinic: ClinicPrices
) -> list[Finding]:
    """Every representative finding, in the order of KINDS; the code and price checks only
    when the clinic imported its own chargemaster, the underpayment check only against a fee
    schedule."""
    items = list(items)
    return [
        *codes_not_on_chargemaster(items, clinic.chargemaster),
        *prices_differ(items, clinic.chargemaster),
        *payer_underpayments(items, coverages, clinic.fee_schedule),
        *insurance_paid_short(items, coverages),
    ]
