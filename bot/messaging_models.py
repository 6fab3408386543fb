"""Tables of the gateway: every inbound and outbound message (text already masked), the
SMS consent record of each phone number and the email opt-out record of each address."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.clock import utcnow
from billing.db.base import Base

INBOUND = "in"
OUTBOUND = "out"


class Message(Base):
    """One message through the gateway.

    external_id is the channel's own id (Twilio MessageSid, Telegram update_id inbound or
    '<chat>:<message_id>' outbound); it is unique per channel and direction, which is what
    makes a replayed webhook a no-op.

    Inbound status: received -> processing -> answered | unanswered | for_representative |
    opt_out | opt_in | opted_out. Outbound status: queued -> sent -> delivered | undelivered |
    failed | read; suppressed when the number is opted out.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "external_id", name="uq_messages_external"),
        Index("ix_messages_sender_status", "sender_key", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(16))
    sender_key: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)  # card numbers masked
    external_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(16))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsOptOut(Base):
    """The consent state of one phone number: opted out while opted_out is true."""

    __tablename__ = "sms_opt_outs"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    opted_out: Mapped[bool] = mapped_column(default=True)
    opted_out_at: Mapped[datetime | None]
    opted_in_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(32))  # keyword | phrase | twilio_21610 | ...


class EmailOptOut(Base):
    """The consent state of one email address: opted out while opted_out is true (the
    one-click unsubscribe of RFC 8058, or the unsubscribe page)."""

    __tablename__ = "email_opt_outs"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased
    opted_out: Mapped[bool] = mapped_column(default=True)
    opted_out_at: Mapped[datetime | None]
    opted_in_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(32))  # one_click | unsubscribe_page | ...
