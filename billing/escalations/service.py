"""Every write to an escalation: queued by the bot or the gateway, taken by a representative
(or taken over at once), closed when handed back. The caller owns the transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing.errors import RequestError
from billing.escalations.enums import OPEN, PRIORITY, EscalationReason, EscalationStatus
from billing.escalations.models import Escalation
from billing.references import as_utc


class QueueError(RequestError):
    """An action on an escalation that is not possible in its present state."""


class AlreadyTaken(QueueError):
    """Another representative took the escalation first."""


def open_for_sender(*, session: Session, sender_key: str) -> Escalation | None:
    """The sender's newest queued or assigned escalation, if any."""
    return session.scalars(
        select(Escalation)
        .where(Escalation.sender_key == sender_key, Escalation.status.in_(OPEN))
        .order_by(Escalation.id.desc())
    ).first()


def open_escalations(*, session: Session) -> list[Escalation]:
    """Queued and assigned escalations: most urgent first, then oldest first."""
    return list(
        session.scalars(
            select(Escalation)
            .where(Escalation.status.in_(OPEN))
            .order_by(Escalation.priority, Escalation.created_at, Escalation.id)
        )
    )


def escalate(
    *,
    session: Session,
    sender_key: str,
    channel: str,
    reason: EscalationReason | str,
    now: datetime,
    patient_id: int | None = None,
    note: str | None = None,
) -> Escalation:
    """Queue the conversation for a representative. An open one for the sender is reused: it
    takes the more urgent priority of the two and learns the patient if it did not know it."""
    try:
        reason = EscalationReason(reason)
    except ValueError:
        raise RequestError(f"unknown escalation reason {reason!r}") from None
    priority = PRIORITY[reason]
    existing = open_for_sender(session=session, sender_key=sender_key)
    if existing is not None:
        existing.priority = min(existing.priority, priority)
        if patient_id is not None and existing.patient_id is None:
            existing.patient_id = patient_id
        session.flush()
        return existing
    escalation = Escalation(
        sender_key=sender_key,
        channel=channel,
        patient_id=patient_id,
        reason=reason.value,
        priority=priority,
        status=EscalationStatus.QUEUED,
        note=note,
        created_at=as_utc(now),
    )
    session.add(escalation)
    session.flush()
    return escalation


def get(*, session: Session, escalation_id: int) -> Escalation:
    """The escalation with this id; raises QueueError when there is none."""
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise QueueError("no such escalation")
    return esc


def take(*, session: Session, escalation_id: int, username: str) -> Escalation:
    """Assign a queued escalation to `username`. One conditional UPDATE decides between two
    representatives taking it at once: the row changes only while it is still queued."""
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == EscalationStatus.QUEUED)
        .values(status=EscalationStatus.ASSIGNED, assigned_to=username)
        .execution_options(synchronize_session=False)
    )
    esc = get(session=session, escalation_id=escalation_id)
    session.refresh(esc)
    if result.rowcount != 1:
        if esc.status == EscalationStatus.ASSIGNED and esc.assigned_to == username:
            return esc
        if esc.status == EscalationStatus.ASSIGNED:
            raise AlreadyTaken(f"already taken by {esc.assigned_to}")
        raise QueueError("this conversation is closed")
    return esc


def take_over(
    *,
    session: Session,
    sender_key: str,
    channel: str,
    patient_id: int | None,
    username: str,
    now: datetime,
) -> Escalation:
    """A representative takes a conversation the bot is having: its open escalation if it has
    one (its priority unchanged), else a new one, taken by them at once."""
    esc = open_for_sender(session=session, sender_key=sender_key)
    if esc is None:
        esc = escalate(
            session=session, sender_key=sender_key, channel=channel, patient_id=patient_id,
            reason=EscalationReason.REPRESENTATIVE_TAKEOVER, now=now,
        )
    return take(session=session, escalation_id=esc.id, username=username)


def require_holder(*, escalation: Escalation, username: str) -> None:
    """Replies and hand-backs come only from the representative holding the conversation."""
    if escalation.status != EscalationStatus.ASSIGNED:
        raise QueueError("take this conversation before answering it")
    if escalation.assigned_to != username:
        raise QueueError(f"this conversation is with {escalation.assigned_to}")


def close(*, escalation: Escalation, username: str, note: str, now: datetime) -> None:
    """Hand the conversation back to the bot; the note says what was done."""
    require_holder(escalation=escalation, username=username)
    escalation.status = EscalationStatus.CLOSED
    escalation.closed_at = now
    escalation.note = note.strip()


def mark_replied(*, escalation: Escalation, now: datetime) -> None:
    """The first representative reply's instant (the dashboard's time to first reply)."""
    if escalation.first_reply_at is None:
        escalation.first_reply_at = now


def unannounced(*, session: Session, since: datetime, limit: int) -> list[Escalation]:
    """Queued escalations created since `since` that the representatives were never told of,
    oldest first."""
    return list(session.scalars(
        select(Escalation)
        .where(Escalation.notified_at.is_(None), Escalation.status == EscalationStatus.QUEUED,
               Escalation.created_at >= since)
        .order_by(Escalation.id)
        .limit(limit)
    ))


def claim_notice(*, session: Session, escalation_id: int, now: datetime) -> bool:
    """Mark the escalation announced, only if no one did yet: True when this caller won."""
    return session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.notified_at.is_(None))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def release_notice(*, session: Session, escalation_id: int) -> None:
    """Give a claim back after the announcement failed, so the next pass tries again."""
    session.execute(
        update(Escalation).where(Escalation.id == escalation_id)
        .values(notified_at=None).execution_options(synchronize_session=False)
    )
