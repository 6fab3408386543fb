"""The gateway's persistence: messages in and out, SMS consent, and the escalation rows the
pipeline reads or queues. Plain functions over a SQLAlchemy engine; each call is one
transaction, so the pipeline can run them in a worker thread."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.db.models import Patient, Verification
from billing.escalations.enums import EscalationStatus
from billing.escalations.models import Escalation
from billing.escalations.service import escalate
from bot.channels.base import SendResult
from bot.messaging_models import INBOUND, OUTBOUND, Message, SmsOptOut

# A message 'processing' for longer than this was left by a crashed worker.
STALE_AFTER = timedelta(minutes=5)
ASYNC_CHANNELS = ("sms", "telegram")

# Delivery statuses only move forward (Twilio's callbacks can arrive out of order).
_STATUS_RANK = {
    "queued": 0, "accepted": 0, "sending": 1, "sent": 2, "failed": 3, "undelivered": 3,
    "delivered": 4, "read": 5,
}


@dataclass(frozen=True)
class PendingMessage:
    id: int
    channel: str
    sender_key: str
    text: str
    client_ref: str | None = None  # web chat only, never stored (bot/client_address.py)


def record_inbound(
    engine: Engine, *, channel: str, sender_key: str, text: str, external_id: str | None,
    status: str, now: datetime,
) -> int | None:
    """Store an inbound message; None when the channel's external id was stored before."""
    try:
        with Session(engine) as s, s.begin():
            row = Message(
                direction=INBOUND, channel=channel, sender_key=sender_key, text=text,
                external_id=external_id, status=status, created_at=now, updated_at=now,
            )
            s.add(row)
            s.flush()
            return row.id
    except IntegrityError:
        return None


def claim_next(engine: Engine, sender_key: str, now: datetime) -> PendingMessage | None:
    """Take the oldest unprocessed inbound message of a sender (status -> processing).

    None while another message of the same sender is being processed (by this or another
    gateway worker): that worker's drain loop takes this one next, so one sender's messages
    reach Rasa strictly in order however many workers there are."""
    stale = now - STALE_AFTER
    with Session(engine) as s, s.begin():
        while True:
            busy = s.scalar(
                select(Message.id)
                .where(
                    Message.sender_key == sender_key,
                    Message.direction == INBOUND,
                    Message.status == "processing",
                    Message.updated_at >= stale,
                )
                .limit(1)
            )
            if busy is not None:
                return None
            row = s.scalars(
                select(Message)
                .where(
                    Message.sender_key == sender_key,
                    Message.direction == INBOUND,
                    (Message.status == "received")
                    | ((Message.status == "processing") & (Message.updated_at < stale)),
                )
                .order_by(Message.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            claimed = s.execute(
                update(Message)
                .where(
                    Message.id == row.id,
                    (Message.status == "received")
                    | ((Message.status == "processing") & (Message.updated_at < stale)),
                )
                .values(status="processing", updated_at=now)
            ).rowcount
            if claimed:
                return PendingMessage(row.id, row.channel, row.sender_key, row.text)


def senders_with_pending(engine: Engine, now: datetime) -> list[str]:
    """Senders with SMS/Telegram messages not yet handled (or stuck processing), oldest first."""
    stale = now - STALE_AFTER
    with Session(engine) as s:
        return list(
            s.scalars(
                select(Message.sender_key)
                .where(
                    Message.direction == INBOUND,
                    Message.channel.in_(ASYNC_CHANNELS),
                    (Message.status == "received")
                    | ((Message.status == "processing") & (Message.updated_at < stale)),
                )
                .group_by(Message.sender_key)
                .order_by(func.min(Message.id))
            )
        )


def finish_inbound(engine: Engine, message_id: int, status: str, now: datetime) -> None:
    """Set the final status of an inbound message once the pipeline has handled it."""
    with Session(engine) as s, s.begin():
        s.execute(
            update(Message).where(Message.id == message_id).values(status=status, updated_at=now)
        )


def add_outbound(
    engine: Engine, *, channel: str, sender_key: str, text: str, status: str,
    reply_to_id: int | None, now: datetime,
) -> int:
    """Store an outgoing message before it is sent and return its id."""
    with Session(engine) as s, s.begin():
        row = Message(
            direction=OUTBOUND, channel=channel, sender_key=sender_key, text=text,
            status=status, reply_to_id=reply_to_id, created_at=now, updated_at=now,
        )
        s.add(row)
        s.flush()
        return row.id


def outbound_after(engine: Engine, sender_key: str, after_id: int, limit: int = 50
                   ) -> list[tuple[int, str]]:
    """(id, text) of the outbound messages to one sender with an id above after_id, oldest
    first: what a web chat page has not shown yet (a representative's replies among them).
    Never inbound texts, never another sender's, never a suppressed or failed part."""
    with Session(engine) as s:
        return [
            (row.id, row.text)
            for row in s.execute(
                select(Message.id, Message.text)
                .where(
                    Message.sender_key == sender_key,
                    Message.direction == OUTBOUND,
                    Message.id > after_id,
                    Message.status.not_in(("suppressed", "failed")),
                )
                .order_by(Message.id)
                .limit(limit)
            )
        ]


def record_send_result(engine: Engine, message_id: int, result: SendResult, now: datetime) -> None:
    """Store the provider's answer for an outgoing message: status, provider id, error code."""
    with Session(engine) as s, s.begin():
        row = s.get(Message, message_id)
        row.status = result.status
        row.external_id = result.external_id
        row.error_code = result.error_code
        row.updated_at = now


def record_delivery_status(
    engine: Engine, channel: str, external_id: str, status: str, error_code: str | None,
    now: datetime,
) -> str | None:
    """Apply a delivery report to the outbound message it is about; its sender_key, or None
    when no such message exists."""
    with Session(engine) as s, s.begin():
        row = s.scalars(
            select(Message).where(
                Message.channel == channel, Message.direction == OUTBOUND,
                Message.external_id == external_id,
            )
        ).first()
        if row is None:
            return None
        if _STATUS_RANK.get(status, 0) >= _STATUS_RANK.get(row.status, 0):
            row.status = status[:20]
            row.updated_at = now
        if error_code:
            row.error_code = error_code[:16]
        return row.sender_key


def is_opted_out(engine: Engine, phone: str) -> bool:
    """True if the phone number has opted out of SMS (e.g. replied STOP)."""
    with Session(engine) as s:
        return bool(
            s.scalars(select(SmsOptOut.opted_out).where(SmsOptOut.phone == phone)).first()
        )


def record_opt_out(engine: Engine, phone: str, source: str, now: datetime) -> None:
    """Record (or renew) an opt-out; the patients on that number are marked too, so
    reminders and statements stop as well."""
    with Session(engine) as s, s.begin():
        row = s.scalars(select(SmsOptOut).where(SmsOptOut.phone == phone)).first()
        if row is None:
            s.add(SmsOptOut(phone=phone, opted_out=True, opted_out_at=now, source=source))
        elif not row.opted_out:
            row.opted_out, row.opted_out_at, row.source = True, now, source
        s.execute(
            update(Patient).where(Patient.phone == phone).values(sms_opted_out_at=now)
        )


def record_opt_in(engine: Engine, phone: str, source: str, now: datetime) -> None:
    """Record that the phone number accepts SMS again and clear the opt-out on its patients."""
    with Session(engine) as s, s.begin():
        row = s.scalars(select(SmsOptOut).where(SmsOptOut.phone == phone)).first()
        if row is None:
            s.add(SmsOptOut(phone=phone, opted_out=False, opted_in_at=now, source=source))
        else:
            row.opted_out, row.opted_in_at, row.source = False, now, source
        s.execute(
            update(Patient).where(Patient.phone == phone).values(sms_opted_out_at=None)
        )


def set_telegram_reminders(engine: Engine, chat_id: str, opted_out: bool, now: datetime) -> bool:
    """STOP / START in a Telegram chat: reminders there stop or resume for every patient
    linked to the chat. Returns whether the chat was opted out before."""
    with Session(engine) as s, s.begin():
        linked = select(Patient).where(Patient.telegram_chat_id == int(chat_id))
        before = any(p.telegram_opted_out_at is not None for p in s.scalars(linked))
        s.execute(
            update(Patient).where(Patient.telegram_chat_id == int(chat_id))
            .values(telegram_opted_out_at=now if opted_out else None)
        )
        return before


def has_assigned_escalation(engine: Engine, sender_key: str) -> bool:
    """True when a representative currently holds an escalation for this sender."""
    with Session(engine) as s:
        return (
            s.scalars(
                select(Escalation.id).where(
                    Escalation.sender_key == sender_key,
                    Escalation.status == EscalationStatus.ASSIGNED,
                ).limit(1)
            ).first()
            is not None
        )


def queue_escalation(
    engine: Engine, *, sender_key: str, channel: str, reason: str, now: datetime,
) -> int:
    """Queue the conversation for a representative in its own transaction (the pipeline runs
    this in a worker thread); the sender's verified patient, if any, goes with it."""
    with Session(engine) as s, s.begin():
        patient_id = s.scalars(
            select(Verification.patient_id).where(
                Verification.sender_key == sender_key, Verification.verified_at.is_not(None)
            )
        ).first()
        return escalate(session=s, sender_key=sender_key, channel=channel, reason=reason,
                        patient_id=patient_id, now=now).id
