"""The reminder outbox: one row per account and cadence step, so each reminder goes out once."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.clock import utcnow
from billing.db.base import Base

# pending  -> written, may be sent from not_before (also: deferred, or waiting for a retry)
# sending  -> claimed by a run that is sending it now
# sent     -> the channel accepted it (provider_sid set); delivery status is on messages
# failed   -> the channel refused it and a retry would not help (error_code says why)
# unknown  -> a run died between claiming and recording: it may have gone out, so it is
#             never sent again automatically (counted as contact for the frequency cap)
# cancelled-> no longer due when its time came (paid, dispute, plan, opt-out, ...)
STATUSES = ("pending", "sending", "sent", "failed", "unknown", "cancelled")


class ReminderOutbox(Base):
    __tablename__ = "reminder_outbox"
    __table_args__ = (
        UniqueConstraint("patient_id", "episode", "step", name="uq_reminder_outbox_patient_step"),
        Index("ix_reminder_outbox_status_not_before", "status", "not_before"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    # The due date of the oldest unpaid amount when planned: an account paid up and overdue
    # again later starts a new episode, and the cadence starts again for it.
    episode: Mapped[date]
    step: Mapped[int]  # days past due of the cadence step (1, 15, 30, ...)
    channel: Mapped[str] = mapped_column(String(16))  # sms | telegram | email
    sender_key: Mapped[str] = mapped_column(String(120))  # 'sms:+1555...', 'tg:123', 'email:a@b'
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(60))  # why deferred or cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)  # = messages.external_id
    message_id: Mapped[int | None]  # the gateway's messages row (its transcript of the sender)
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
