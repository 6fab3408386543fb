"""The escalations table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.clock import utcnow
from billing.db.base import Base
from billing.escalations.enums import EscalationStatus


class Escalation(Base):
    """A conversation handed to the representatives."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_status_priority", "status", "priority", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(120), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    reason: Mapped[str] = mapped_column(String(40))  # an EscalationReason
    priority: Mapped[int] = mapped_column(default=2)  # 1 highest
    status: Mapped[EscalationStatus] = mapped_column(String(16), default=EscalationStatus.QUEUED)
    assigned_to: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_reply_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # When the representatives' Telegram group was told (bot/escalation_notices.py; migration
    # 0005_escalation_notify).
    notified_at: Mapped[datetime | None]
