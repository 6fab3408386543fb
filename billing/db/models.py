"""Tables shared by every feature: patients, coverages, the ledger, verification state, the
attempt counters (throttles), the audit log, and the clinic's price list and payer contracts.
Each feature's own tables live in its folder (billing/disputes, billing/escalations, billing/insurance_changes,
billing/payment_plans, billing/refunds); bot/all_models.py imports them all."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.core.clock import utcnow
from billing.db.base import Base


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(32), unique=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date]
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    preferred_channel: Mapped[str] = mapped_column(String(16), default="sms")
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_consent_at: Mapped[datetime | None]
    sms_opted_out_at: Mapped[datetime | None]
    telegram_opted_out_at: Mapped[datetime | None]  # STOP in the Telegram chat: no reminders there
    language: Mapped[str] = mapped_column(String(8), default="en")
    state: Mapped[str | None] = mapped_column(String(2))  # US state, for quiet-hour rules
    # The mailing address (patients.csv, optional): letters go to it in a windowed envelope.
    address_line1: Mapped[str | None] = mapped_column(String(120))
    address_line2: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(80))
    zip: Mapped[str | None] = mapped_column(String(10))  # 12345 or 12345-6789
    # Email consent and opt-out, kept like SMS's; a bounce marks the address failing.
    email_consent: Mapped[bool] = mapped_column(default=False)
    email_consent_at: Mapped[datetime | None]
    email_opted_out_at: Mapped[datetime | None]
    email_failing_at: Mapped[datetime | None]  # the relay bounced it: nothing more is sent
    email_failure: Mapped[str | None] = mapped_column(String(16))  # the relay's code, e.g. 5.1.1
    needs_review: Mapped[bool] = mapped_column(default=False)  # aged account flagged for a rep
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    coverages: Mapped[list[Coverage]] = relationship(back_populates="patient")
    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="patient")


class Coverage(Base):
    __tablename__ = "coverages"
    __table_args__ = (UniqueConstraint("patient_id", "payer", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    payer: Mapped[str] = mapped_column(String(120))
    member_id: Mapped[str] = mapped_column(String(64))
    plan_name: Mapped[str] = mapped_column(String(120))
    deductible_cents: Mapped[int]
    deductible_met_cents: Mapped[int]
    coinsurance_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    copay_cents: Mapped[int]
    out_of_pocket_max_cents: Mapped[int]
    out_of_pocket_met_cents: Mapped[int]
    effective_date: Mapped[date]
    termination_date: Mapped[date | None]

    patient: Mapped[Patient] = relationship(back_populates="coverages")


class LedgerEntry(Base):
    """One line of an account's ledger. amount_cents is positive; the type gives direction."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    amount_cents: Mapped[int]
    posted_date: Mapped[date]
    service_date: Mapped[date | None]
    cpt_code: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(120))
    claim_id: Mapped[str | None] = mapped_column(String(64), index=True)
    claim_status: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date | None]
    reminders_paused: Mapped[bool] = mapped_column(default=False)  # disputed line
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="entries")


class Verification(Base):
    """Identity verification state of one sender (a channel identity such as 'sms:+1555...').

    Set only by the verification action; read again by every action that discloses data.
    """

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(120), unique=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    verified_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class Throttle(Base):
    """Attempts counted under one key across every gateway worker and Rasa instance: failed
    verifications per account or client address, console login failures per username or
    address, web chat messages per session or address (billing/throttle.py). A key names a
    kind and an id ('verify_account:A1000', 'login_user:alice'), never patient data."""

    __tablename__ = "throttles"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    count: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None] = mapped_column(index=True)


class AuditLog(Base):
    """Who saw or changed what, and when. detail never holds more than ids and kinds."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # 'bot', 'import', 'rep:alice', ...
    action: Mapped[str] = mapped_column(String(60))  # 'view_balance', 'create_plan', ...
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    detail: Mapped[dict | None] = mapped_column(JSON)


class ChargemasterItem(Base):
    """One line of the clinic's own price list (chargemaster.csv), keyed by CPT code.

    Empty until the clinic imports one: the shipped data/chargemaster.csv is the demo's.
    """

    __tablename__ = "chargemaster_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    cpt_code: Mapped[str] = mapped_column(String(5), unique=True)
    description: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int]


class FeeScheduleRate(Base):
    """What a payer's contract allows for a CPT code over a period (fee_schedules.csv).

    Keyed by (payer, cpt_code, effective_date); the importer keeps the periods of one payer
    and code from overlapping, so a service date finds at most one rate.
    """

    __tablename__ = "fee_schedule_rates"
    __table_args__ = (
        UniqueConstraint("payer", "cpt_code", "effective_date",
                         name="uq_fee_schedule_rates_payer_code_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    payer: Mapped[str] = mapped_column(String(120))
    cpt_code: Mapped[str] = mapped_column(String(5))
    allowed_cents: Mapped[int]
    effective_date: Mapped[date]
    termination_date: Mapped[date | None]
