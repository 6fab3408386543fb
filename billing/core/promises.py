"""Dates billbot promises (a refund's arrival, an insurer's decision, a dispute's answer) and
the promises that have passed: told to the patient as late, never as a date still to come, and
found for a representative to chase.

Pure rules; `today` is passed in.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from billing.core.balances import Balance
from billing.core.discrepancies import Finding
from billing.core.ledger import ClaimStatus, RefundRecord, RefundStatus
from billing.core.money import ZERO, Cents, fmt

KINDS = ("refund_late", "claim_late", "dispute_late")
OPEN_REFUND = (RefundStatus.REQUESTED, RefundStatus.APPROVED)


@dataclass(frozen=True)
class PromisePolicy:
    """How long each thing usually takes; the clinic's settings override them."""

    refund_business_days: int = 10  # request to money back
    claim_decision_days: int = 45  # claim posted to the insurer's decision (prompt-pay laws)
    dispute_review_days: int = 30  # dispute opened to an answer

    @classmethod
    def from_settings(cls, settings: object) -> PromisePolicy:
        """From the app's settings (REFUND_BUSINESS_DAYS, CLAIM_DECISION_DAYS,
        DISPUTE_REVIEW_DAYS); read by name so the core imports nothing of the app."""
        return cls(**{name: getattr(settings, name) for name in
                      ("refund_business_days", "claim_decision_days", "dispute_review_days")})


@dataclass(frozen=True)
class OpenCase:
    """An open dispute, as far as promises go."""

    reference: str
    opened_on: date
    amount: Cents = ZERO  # in question


def add_business_days(start: date, days: int) -> date:
    """The date `days` working days (Mon-Fri) after start; holidays are not skipped."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def expected_refund_date(refund: RefundRecord, business_days: int) -> date | None:
    """When the money reaches the patient: the issue date, else requested + N business days."""
    if refund.status is RefundStatus.REJECTED:
        return None
    if refund.issued_date is not None:
        return refund.issued_date
    return add_business_days(refund.requested_date, business_days)


def refund_is_late(refund: RefundRecord, business_days: int, today: date) -> bool:
    """True when the refund is still open and its promised date is before today."""
    expected = expected_refund_date(refund, business_days)
    return refund.status in OPEN_REFUND and expected is not None and expected < today


def claim_submitted_on(balance: Balance, claim_id: str) -> date | None:
    """A claim goes to the insurer when its charges are posted: the earliest posting."""
    visit = balance.visit(claim_id)
    if visit is None:
        return None
    posted = [i.posted_date for i in visit.lines if i.type.value == "charge"]
    return min(posted) if posted else None


def expected_claim_decision(balance: Balance, claim_id: str, days: int) -> date | None:
    """Date the insurer should decide the claim: `days` after submission (None if unsubmitted)."""
    submitted = claim_submitted_on(balance, claim_id)
    return submitted + timedelta(days=days) if submitted else None


def expected_dispute_answer(case: OpenCase, days: int) -> date:
    """Date we promised to answer the dispute: `days` after it was opened."""
    return case.opened_on + timedelta(days=days)


def _day(d: date) -> str:
    return f"{d:%b} {d.day}, {d.year}"


def late_promises(
    balance: Balance,
    refunds: Sequence[RefundRecord],
    cases: Sequence[OpenCase],
    policy: PromisePolicy,
    today: date,
) -> list[Finding]:
    """Every promise past its date, for a representative to chase (largest amount first is the
    worklist's business, not this one's)."""
    found = []
    for r in refunds:
        expected = expected_refund_date(r, policy.refund_business_days)
        if expected is not None and refund_is_late(r, policy.refund_business_days, today):
            found.append(Finding(
                "refund_late", (r.refund_id,), r.amount,
                f"Refund {r.refund_id} of {fmt(r.amount)} ({r.status.value} "
                f"{_day(r.requested_date)}) was expected by {_day(expected)}.",
                for_patient=False,
            ))
    for v in balance.visits:
        if v.claim_status is not ClaimStatus.PENDING or not v.claim_id:
            continue
        expected = expected_claim_decision(balance, v.claim_id, policy.claim_decision_days)
        if expected is not None and expected < today:
            found.append(Finding(
                "claim_late", v.entry_ids, v.pending_insurance,
                f"Claim {v.claim_id} ({fmt(v.pending_insurance)} pending) has had no decision "
                f"since {_day(expected - timedelta(days=policy.claim_decision_days))}; "
                f"expected by {_day(expected)}.",
                for_patient=False,
            ))
    for case in cases:
        expected = expected_dispute_answer(case, policy.dispute_review_days)
        if expected < today:
            found.append(Finding(
                "dispute_late", (case.reference,), case.amount,
                f"Dispute {case.reference}, opened {_day(case.opened_on)}, has no answer; "
                f"one was expected by {_day(expected)}.",
                for_patient=False,
            ))
    return found
