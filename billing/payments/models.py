"""The payments tables: checkouts sent to patients, processor events received (one row per
event id: the idempotency of the webhook), autopay mandates, installment charges (claimed
before the processor is called) and refunds executed at the processor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.clock import utcnow
from billing.db.base import Base
from billing.payments.enums import (
    ChargeStatus,
    CheckoutStatus,
    MandateStatus,
    ProcessorRefundStatus,
    Purpose,
)


class Checkout(Base):
    """One hosted payment (or setup) page sent to a patient, as the processor made it."""

    __tablename__ = "payment_checkouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(16))
    session_ref: Mapped[str] = mapped_column(String(255), unique=True)  # cs_...
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    purpose: Mapped[Purpose] = mapped_column(String(16))
    amount_cents: Mapped[int]  # 0 for a setup page
    installment_id: Mapped[int | None] = mapped_column(ForeignKey("plan_installments.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("payment_plans.id"))
    sender_key: Mapped[str] = mapped_column(String(120))  # where the receipt goes
    status: Mapped[CheckoutStatus] = mapped_column(String(16), default=CheckoutStatus.OPEN)
    payment_ref: Mapped[str | None] = mapped_column(String(255), index=True)  # pi_...
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class ProcessorEventRecord(Base):
    """Every verified event received, once: a replay with the same id finds its row."""

    __tablename__ = "processor_events"
    __table_args__ = (UniqueConstraint("processor", "event_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(16))
    event_ref: Mapped[str] = mapped_column(String(255))  # evt_...
    kind: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))  # posted, ignored, review, ...
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutopayMandate(Base):
    """A plan's saved payment method at the processor (a customer and a payment method id)."""

    __tablename__ = "autopay_mandates"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    processor: Mapped[str] = mapped_column(String(16))
    status: Mapped[MandateStatus] = mapped_column(String(16), default=MandateStatus.PENDING)
    sender_key: Mapped[str] = mapped_column(String(120))  # where notices about it go
    customer_ref: Mapped[str] = mapped_column(String(255))
    method_ref: Mapped[str | None] = mapped_column(String(255))
    setup_ref: Mapped[str] = mapped_column(String(255), unique=True)  # the setup checkout
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]


class InstallmentCharge(Base):
    """One attempt at charging one installment off-session. The row is written (claimed)
    before the processor is called; its idempotency key makes a resend after a crash the same
    request, so an installment is charged at most once per attempt."""

    __tablename__ = "installment_charges"
    __table_args__ = (UniqueConstraint("installment_id", "attempt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("plan_installments.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    attempt: Mapped[int]
    amount_cents: Mapped[int]
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[ChargeStatus] = mapped_column(String(16), default=ChargeStatus.CHARGING)
    payment_ref: Mapped[str | None] = mapped_column(String(255))
    error_code: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]  # when the next attempt may run (None: no retry left)


class ProcessorRefund(Base):
    """A refund request executed at the processor against one of its payments."""

    __tablename__ = "processor_refunds"
    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    processor: Mapped[str] = mapped_column(String(16))
    refund_ref: Mapped[str] = mapped_column(String(255), unique=True)  # re_...
    payment_ref: Mapped[str] = mapped_column(String(255), index=True)
    amount_cents: Mapped[int]
    status: Mapped[ProcessorRefundStatus] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
