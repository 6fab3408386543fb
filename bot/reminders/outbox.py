"""The reminder outbox: rows written before anything is sent, claimed one at a time, and
marked with what the channel said. This is what makes each reminder go out at most once.

The window that matters is between the channel accepting a message and the row being marked
'sent'. A row is claimed ('sending', committed) before the send; if the run dies in that
window the row stays 'sending', and the next run turns it into 'unknown' once the claim is
older than ReminderConfig.stale_claim. 'unknown' is never sent again automatically: a
possible duplicate reminder about a medical bill is worse than a missing one, and the
report lists such rows for a representative to check against Twilio's log.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.messaging_models import OUTBOUND, Message
from bot.reminders.reminders_models import ReminderOutbox


@dataclass(frozen=True)
class Planned:
    """A reminder to write: send now (not_before == now) or later (deferred)."""

    patient_id: int
    step: int
    channel: str
    sender_key: str
    body: str
    not_before: datetime
    reason: str
    episode: date  # due date of the oldest unpaid amount: a new one restarts the cadence


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    mod = postgresql if dialect == "postgresql" else sqlite
    return mod.insert(ReminderOutbox)


def write_planned(session: Session, planned: Iterable[Planned], now: datetime) -> None:
    """Insert each (patient, step) once. An existing pending or cancelled row takes the new
    plan, but never an earlier time than it had (a retry's backoff stands). Rows already
    claimed, sent, failed or unknown are left alone: the unique key does the rest."""
    for p in planned:
        inserted = session.execute(
            _insert(session)
            .values(patient_id=p.patient_id, episode=p.episode, step=p.step, channel=p.channel,
                    sender_key=p.sender_key, body=p.body, status="pending", reason=p.reason,
                    attempts=0, not_before=p.not_before, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["patient_id", "episode", "step"])
        ).rowcount
        if inserted:
            continue
        row = session.scalars(
            select(ReminderOutbox).where(ReminderOutbox.patient_id == p.patient_id,
                                         ReminderOutbox.episode == p.episode,
                                         ReminderOutbox.step == p.step)
        ).one()
        if row.status in ("pending", "cancelled"):
            row.not_before = max(row.not_before, p.not_before) if row.status == "pending" \
                else p.not_before
            row.status, row.reason = "pending", p.reason
            row.channel, row.sender_key, row.body = p.channel, p.sender_key, p.body
            row.updated_at = now


def pending_rows(session: Session) -> list[tuple[int, int, int, date]]:
    """(row id, patient id, step, episode) of every pending row."""
    return [tuple(r) for r in session.execute(
        select(ReminderOutbox.id, ReminderOutbox.patient_id, ReminderOutbox.step,
               ReminderOutbox.episode)
        .where(ReminderOutbox.status == "pending"))]


def cancel(session: Session, row_id: int, reason: str, now: datetime) -> None:
    """Cancel a reminder that is still pending, keeping
    the reason (rows already sent are untouched)."""
    session.execute(
        update(ReminderOutbox)
        .where(ReminderOutbox.id == row_id, ReminderOutbox.status == "pending")
        .values(status="cancelled", reason=reason[:60], updated_at=now)
    )


def orphan_stale_claims(session: Session, now: datetime, older_than) -> int:
    """'sending' rows claimed before now - older_than belong to a run that died: 'unknown'."""
    result = session.execute(
        update(ReminderOutbox)
        .where(ReminderOutbox.status == "sending", ReminderOutbox.claimed_at < now - older_than)
        .values(status="unknown", reason="run stopped while sending", updated_at=now)
    )
    return result.rowcount or 0


@dataclass
class Due:
    """A pending row whose time has come, as plain values (attempts: before this one)."""

    id: int
    patient_id: int
    channel: str
    sender_key: str
    body: str
    attempts: int
    message_id: int | None = None  # set by claim()


def due_rows(session: Session, now: datetime, limit: int | None = None) -> list[Due]:
    """Pending reminders whose send time has come, oldest first, at most limit of them."""
    o = ReminderOutbox
    q = (select(o.id, o.patient_id, o.channel, o.sender_key, o.body, o.attempts)
         .where(o.status == "pending", o.not_before <= now)
         .order_by(o.not_before, o.id))
    if limit is not None:
        q = q.limit(limit)
    return [Due(*r) for r in session.execute(q)]


def claim(session: Session, row: Due, now: datetime) -> bool:
    """Take a pending row for sending, and put the reminder on the sender's transcript as a
    queued outbound message (as the gateway does for its replies), so a reply to it (BAL)
    continues a conversation that shows it. False when another run took the row first."""
    result = session.execute(
        update(ReminderOutbox)
        .where(ReminderOutbox.id == row.id, ReminderOutbox.status == "pending")
        .values(status="sending", claimed_at=now, attempts=ReminderOutbox.attempts + 1,
                updated_at=now)
    )
    if result.rowcount != 1:
        return False
    message = Message(direction=OUTBOUND, channel=row.channel, sender_key=row.sender_key,
                      text=row.body, status="queued", created_at=now, updated_at=now)
    session.add(message)
    session.flush()
    _set(session, row.id, now, message_id=message.id)
    row.message_id = message.id
    return True


def _set(session: Session, row_id: int, now: datetime, **values) -> None:
    session.execute(update(ReminderOutbox).where(ReminderOutbox.id == row_id)
                    .values(updated_at=now, **values))


def _message(session: Session, row: Due, now: datetime, **values) -> None:
    if row.message_id is not None:
        session.execute(update(Message).where(Message.id == row.message_id)
                        .values(updated_at=now, **values))


def mark_sent(session: Session, row: Due, sid: str | None, now: datetime,
              status: str = "sent") -> None:
    """The channel took it. The Twilio SID goes on both rows: status callbacks find the
    message by it, and the report joins the outbox to the message through it."""
    _set(session, row.id, now, status="sent", sent_at=now, provider_sid=sid, reason=None,
         error_code=None)
    _message(session, row, now, status=status, external_id=sid)


def mark_retry(session: Session, row: Due, code: str, at: datetime,
               now: datetime) -> None:
    """After a temporary send error, put the reminder back to pending until at."""
    _set(session, row.id, now, status="pending", not_before=at, error_code=code[:16],
         reason="retry after a temporary error")
    _message(session, row, now, status="failed", error_code=code[:16])


def mark_failed(session: Session, row: Due, code: str, reason: str,
                now: datetime) -> None:
    """Mark the reminder failed for good (not retried), with the error code and reason."""
    _set(session, row.id, now, status="failed", error_code=code[:16], reason=reason[:60])
    _message(session, row, now, status="failed", error_code=code[:16])


def mark_unknown(session: Session, row: Due, code: str, reason: str,
                 now: datetime) -> None:
    """Mark the reminder's outcome unknown; it is not
    retried, so the patient is not texted twice."""
    _set(session, row.id, now, status="unknown", error_code=code[:16], reason=reason[:60])


def postpone(session: Session, row_id: int, at: datetime, reason: str, now: datetime) -> None:
    """Move a pending row to a later time (its time turned out not to be allowed)."""
    session.execute(update(ReminderOutbox)
                    .where(ReminderOutbox.id == row_id, ReminderOutbox.status == "pending")
                    .values(not_before=at, reason=reason[:60], updated_at=now))
