"""The escalation queue: open conversations ordered by priority then age, taken by one
representative at a time, handed back to the bot with a note. The caller owns the transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing.db.models import Escalation
from bot.console.console_models import EscalationNote

OPEN = ("queued", "assigned")
TAKEOVER_REASON = "representative_takeover"


class QueueError(ValueError):
    """An action on an escalation that is not possible in its present state."""


class AlreadyTaken(QueueError):
    """Another representative took the escalation first."""


def open_escalations(session: Session) -> list[Escalation]:
    """Queued and assigned escalations: most urgent first, then oldest first."""
    return list(
        session.scalars(
            select(Escalation)
            .where(Escalation.status.in_(OPEN))
            .order_by(Escalation.priority, Escalation.created_at, Escalation.id)
        )
    )


def get(session: Session, escalation_id: int) -> Escalation:
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise QueueError("no such escalation")
    return esc


def take(session: Session, escalation_id: int, username: str) -> Escalation:
    """Assign a queued escalation to `username`. One conditional UPDATE decides between two
    representatives taking it at once: the row changes only while it is still queued."""
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == "queued")
        .values(status="assigned", assigned_to=username)
        .execution_options(synchronize_session=False)
    )
    esc = get(session, escalation_id)
    session.refresh(esc)
    if result.rowcount != 1:
        if esc.status == "assigned" and esc.assigned_to == username:
            return esc
        if esc.status == "assigned":
            raise AlreadyTaken(f"already taken by {esc.assigned_to}")
        raise QueueError("this conversation is closed")
    return esc


def take_over(
    session: Session,
    sender_key: str,
    channel: str,
    patient_id: int | None,
    username: str,
    now: datetime,
) -> Escalation:
    """A representative takes a conversation the bot is having: its open escalation if it has
    one, else a new one assigned to them at once."""
    existing = session.scalars(
        select(Escalation)
        .where(Escalation.sender_key == sender_key, Escalation.status.in_(OPEN))
        .order_by(Escalation.id.desc())
    ).first()
    if existing is not None:
        return take(session, existing.id, username)
    esc = Escalation(
        sender_key=sender_key,
        channel=channel,
        patient_id=patient_id,
        reason=TAKEOVER_REASON,
        priority=2,
        status="assigned",
        assigned_to=username,
        created_at=now,
    )
    session.add(esc)
    session.flush()
    return esc


def require_holder(esc: Escalation, username: str) -> None:
    """Replies and hand-backs come only from the representative holding the conversation."""
    if esc.status != "assigned":
        raise QueueError("take this conversation before answering it")
    if esc.assigned_to != username:
        raise QueueError(f"this conversation is with {esc.assigned_to}")


def mark_replied(esc: Escalation, now: datetime) -> None:
    if esc.first_reply_at is None:
        esc.first_reply_at = now


def add_note(session: Session, esc: Escalation, author: str, body: str, now: datetime) -> EscalationNote:
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
    return list(
        session.scalars(
            select(EscalationNote)
            .where(EscalationNote.escalation_id == escalation_id)
            .order_by(EscalationNote.created_at, EscalationNote.id)
        )
    )


def return_to_bot(session: Session, esc: Escalation, username: str, note: str, now: datetime) -> None:
    """Close the escalation so the bot answers again; the note says what was done."""
    require_holder(esc, username)
    add_note(session, esc, username, note, now)
    esc.status = "closed"
    esc.closed_at = now
    esc.note = note.strip()
