"""The insurance_changes table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.clock import utcnow
from billing.db.base import Base
from billing.insurance_changes.enums import InsuranceChangeStatus


class InsuranceChange(Base):
    """A patient's new payer and member id, pending a representative's confirmation."""

    __tablename__ = "insurance_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    payer: Mapped[str] = mapped_column(String(120))
    member_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[InsuranceChangeStatus] = mapped_column(
        String(16), default=InsuranceChangeStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
