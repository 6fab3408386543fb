"""The refunds table and each refund's status history."""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.db.base import Base
from billing.refunds.enums import RefundSource, RefundStatus


class Refund(Base):
    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    amount_cents: Mapped[int]
    status: Mapped[RefundStatus] = mapped_column(String(16))
    requested_date: Mapped[date]
    issued_date: Mapped[date | None]
    method: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[RefundSource] = mapped_column(String(16), default=RefundSource.IMPORT)

    events: Mapped[list[RefundEvent]] = relationship(
        back_populates="refund", order_by="RefundEvent.id"
    )


class RefundEvent(Base):
    """Status history of a refund: requested, approved, issued, rejected."""

    __tablename__ = "refund_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    status: Mapped[RefundStatus] = mapped_column(String(16))
    on_date: Mapped[date]
    actor: Mapped[str] = mapped_column(String(80), default="system")
    note: Mapped[str | None] = mapped_column(Text)

    refund: Mapped[Refund] = relationship(back_populates="events")
