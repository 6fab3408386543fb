"""The console's view of the escalation queue: thin wrappers over billing.escalations (which
owns every write to an escalation) plus the representatives' notes, which live with the
console. The caller owns the transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.escalations import service
from billing.escalations.models import Escalation
from billing.escalations.service import AlreadyTaken, QueueError
from bot.console.console_models import EscalationNote

__all__ = [
    "AlreadyTaken", "QueueError", "add_note", "get", "mark_replied", "notes",
    "open_escalations", "require_holder", "return_to_bot", "take", "take_over",
]


def open_escalations(session: Session) -> list[Escalation]:
    """Escalations not yet closed, as the console queue lists them."""
    return service.open_escalations(session=session)


def get(session: Session, escalation_id: int) -> Escalation:
    """The escalation with this id; raise QueueError if there is none."""
    return service.get(session=session, escalation_id=escalation_id)


def take(session: Session, escalation_id: int, username: str) -> Escalation:
    """Assign the escalation to username; raise AlreadyTaken if someone else holds it."""
    return service.take(session=session, escalation_id=escalation_id, username=username)


def take_over(
    session: Session,
    sender_key: str,
    channel: str,
    patient_id: int | None,
    username: str,
    now: datetime,
) -> Escalation:
    """Open an escalation held by username for a conversation,
    so a representative takes it from the bot."""
    return service.take_over(session=session, sender_key=sender_key, channel=channel,
                             patient_id=patient_id, username=username, now=now)


def require_holder(esc: Escalation, username: str) -> None:
    """Raise QueueError unless username holds the escalation: only its holder may act on it."""
    service.require_holder(escalation=esc, username=username)


def mark_replied(esc: Escalation, now: datetime) -> None:
    """Record that a representative replied to the escalation at now."""
    service.mark_replied(escalation=esc, now=now)


def add_note(session: Session, esc: Escalation, author: str, body: str, now: datetime) -> EscalationNote:
    """Add an internal note (1-4000 characters) to the
    escalation; raise QueueError if empty or too long."""
    body = (body or "").strip()
    if not body:
        raise QueueError("the note is empty")
    if len(body) > 4000:
        raise QueueError("a note is at most 4000 characters")
    note = EscalationNote(escalation_id=esc.id, author=author, body=body, created_at=now)
    session.add(note)
    session.flush()
    return note


def notes(session: Session, escalation_id: int) -> list[EscalationNote]:
    """The escalation's internal notes, oldest first."""
    return list(
        session.scalars(
            select(EscalationNote)
            .where(EscalationNote.escalation_id == escalation_id)
            .order_by(EscalationNote.created_at, EscalationNote.id)
        )
    )


def return_to_bot(session: Session, esc: Escalation, username: str, note: str, now: datetime) -> None:
    """Close the escalation so the bot answers again; the note says what was done."""
    service.require_holder(escalation=esc, username=username)
    add_note(session, esc, username, note, now)
    service.close(escalation=esc, username=username, note=note, now=now)
