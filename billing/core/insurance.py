"""Patient share of an allowed amount under a plan's terms: deductible, copay or coinsurance, OOP cap.

Pure rule (no I/O); amounts are integer cents, percentages Decimal, rounding ROUND_HALF_UP.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing.core.ledger import CoverageTerms
from billing.core.money import ZERO, Cents, cents, percent_of


@dataclass(frozen=True)
class Responsibility:
    allowed: Cents
    deductible_part: Cents
    copay_part: Cents
    coinsurance_part: Cents
    patient_total: Cents  # deductible_part + copay_part + coinsurance_part, or all when uninsured
    insurance_total: Cents  # allowed - patient_total
    capped_by_oop: bool


def patient_responsibility(
    allowed: Cents, coverage: CoverageTerms | None, service_date: date
) -> Responsibility:
    """What the patient pays of `allowed` under `coverage` for a service on `service_date`.

    Convention: the remaining deductible (deductible - deductible_met) is paid first. Of what
    is left, a copay plan (copay > 0) charges the copay *instead of* coinsurance, capped at
    what is left; a coinsurance plan (copay == 0) charges coinsurance_percent of what is left.
    The sum is capped at the out-of-pocket maximum remaining (out_of_pocket_max -
    out_of_pocket_met); when it is, the cut comes off coinsurance, then copay, then deductible,
    so the parts always add up to patient_total.

    Without coverage active on the service date the patient pays everything, and the three
    parts are zero (none of them applies).
    """
    if allowed < 0:
        raise ValueError("allowed amount cannot be negative")
    if coverage is None or not coverage.active_on(service_date):
        return Responsibility(allowed, ZERO, ZERO, ZERO, allowed, ZERO, False)

    deductible_left = max(ZERO, cents(coverage.deductible - coverage.deductible_met))
    deductible_part = min(allowed, deductible_left)
    after_deductible = cents(allowed - deductible_part)
    if coverage.copay > 0:
        copay_part, coinsurance_part = min(coverage.copay, after_deductible), ZERO
    else:
        copay_part = ZERO
        coinsurance_part = min(
            after_deductible, max(ZERO, percent_of(after_deductible, coverage.coinsurance_percent))
        )

    oop_left = max(ZERO, cents(coverage.out_of_pocket_max - coverage.out_of_pocket_met))
    over = cents(deductible_part + copay_part + coinsurance_part - oop_left)
    capped = over > 0
    if capped:
        cut = min(over, coinsurance_part)
        coinsurance_part = cents(coinsurance_part - cut)
        over = cents(over - cut)
        cut = min(over, copay_part)
        copay_part = cents(copay_part - cut)
        over = cents(over - cut)
        deductible_part = cents(deductible_part - over)
    patient = cents(deductible_part + copay_part + coinsurance_part)
    return Responsibility(
        allowed=allowed,
        deductible_part=deductible_part,
        copay_part=copay_part,
        coinsurance_part=coinsurance_part,
        patient_total=patient,
        insurance_total=cents(allowed - patient),
        capped_by_oop=capped,
    )
