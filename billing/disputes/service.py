"""Every write to a dispute: opened by the bot over some ledger lines (reminders pause on
them), resolved by a representative with an optional adjustment (reminders resume). The
caller owns the transaction."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.ledger import EntryType
from billing.core.money import Cents, fmt
from billing.db.models import LedgerEntry
from billing.disputes.enums import DisputeStatus
from billing.disputes.models import Dispute, DisputeItem
from billing.errors import RequestError
from billing.ledger_posting import post_line
from billing.references import as_utc, new_reference


def open_dispute(
    *,
    session: Session,
    patient_id: int,
    entry_ids: list[str],
    summary: str,
    amount: Cents,
    now: datetime,
    findings: dict[str, str] | None = None,
) -> Dispute:
    """A dispute case 'D-XXXXXX' over these ledger lines; reminders pause on each of them."""
    entries = list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.patient_id == patient_id, LedgerEntry.entry_id.in_(entry_ids)
            )
        )
    ) if entry_ids else []
    dispute = Dispute(
        reference=new_reference(session, "D-", Dispute.reference),
        patient_id=patient_id,
        status=DisputeStatus.OPEN,
        summary=summary,
        amount_cents=amount,
        opened_at=as_utc(now),
    )
    session.add(dispute)
    session.flush()
    for entry in entries:
        entry.reminders_paused = True
        session.add(
            DisputeItem(
                dispute_id=dispute.id,
                entry_id=entry.id,
                finding=(findings or {}).get(entry.entry_id),
            )
        )
    session.flush()
    return dispute


def resolve_dispute(
    *,
    session: Session,
    patient_id: int,
    reference: str,
    adjustment: Cents,
    resolution: str,
    today: date,
    now: datetime,
) -> Dispute:
    """Close a dispute; a positive adjustment posts a patient_adjustment line lowering what the
    patient owes (on the disputed claim when the dispute is about one claim). Reminders on the
    disputed lines resume."""
    dispute = session.scalars(
        select(Dispute).where(Dispute.reference == reference, Dispute.patient_id == patient_id)
    ).first()
    if dispute is None:
        raise RequestError("no such dispute on this account")
    if dispute.status != DisputeStatus.OPEN:
        raise RequestError(f"dispute {reference} is already {dispute.status}")
    resolution = " ".join((resolution or "").split())
    if not resolution:
        raise RequestError("say how the dispute was resolved")
    entries = [session.get(LedgerEntry, item.entry_id) for item in dispute.items]
    disputed = sum(e.amount_cents for e in entries if e.type == EntryType.CHARGE.value)
    ceiling = max(disputed, dispute.amount_cents)
    if adjustment < 0:
        raise RequestError("an adjustment cannot be negative")
    if adjustment > ceiling:
        raise RequestError(f"an adjustment can be at most the disputed {fmt(ceiling)}")
    if adjustment:
        claims = {e.claim_id for e in entries if e.claim_id}
        post_line(
            session=session,
            patient_id=patient_id,
            type=EntryType.PATIENT_ADJUSTMENT,
            amount=adjustment,
            posted_date=today,
            claim_id=claims.pop() if len(claims) == 1 else None,
            description=f"Dispute {reference} adjustment",
        )
    for entry in entries:
        entry.reminders_paused = False
    dispute.status = DisputeStatus.RESOLVED
    dispute.resolved_at = now
    dispute.resolution = resolution
    session.flush()
    return dispute
