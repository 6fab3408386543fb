"""The disputes table and the ledger lines each dispute is about."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.core.clock import utcnow
from billing.db.base import Base
from billing.disputes.enums import DisputeStatus


class Dispute(Base):
    __tablename__ = "disputes"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[DisputeStatus] = mapped_column(String(16), default=DisputeStatus.OPEN)
    summary: Mapped[str] = mapped_column(Text)
    amount_cents: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[DisputeItem]] = relationship(back_populates="dispute")


class DisputeItem(Base):
    __tablename__ = "dispute_items"
    __table_args__ = (UniqueConstraint("dispute_id", "entry_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    finding: Mapped[str | None] = mapped_column(String(40))

    dispute: Mapped[Dispute] = relationship(back_populates="items")
