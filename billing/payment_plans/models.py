"""The payment_plans table and its installments."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.core.clock import utcnow
from billing.db.base import Base
from billing.payment_plans.enums import InstallmentStatus, PlanStatus


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    total_cents: Mapped[int]
    monthly_cents: Mapped[int]
    months: Mapped[int]
    start_date: Mapped[date]
    status: Mapped[PlanStatus] = mapped_column(String(16), default=PlanStatus.ACTIVE)
    created_by: Mapped[str] = mapped_column(String(80), default="patient")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    installments: Mapped[list[PlanInstallment]] = relationship(
        back_populates="plan", order_by="PlanInstallment.seq"
    )


class PlanInstallment(Base):
    __tablename__ = "plan_installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id"), index=True)
    seq: Mapped[int]
    due_date: Mapped[date]
    amount_cents: Mapped[int]
    status: Mapped[InstallmentStatus] = mapped_column(
        String(16), default=InstallmentStatus.SCHEDULED
    )

    plan: Mapped[PaymentPlan] = relationship(back_populates="installments")
