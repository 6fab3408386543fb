"""The statement notices of each cycle: one row per account and cycle, written before
anything is sent or printed, so a run killed and started again mails or emails each
statement once (the reminders' outbox rule)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.clock import utcnow
from billing.db.base import Base

# pending -> sending -> sent | failed | unknown   (email)
# pending -> printed                              (letter: in the cycle's print batch)
# skipped: nothing could be delivered (a letter with no mailing address): reason says why
NOTICE_STATUSES = ("pending", "sending", "sent", "failed", "unknown", "printed", "skipped")


class StatementNotice(Base):
    __tablename__ = "statement_notices"
    __table_args__ = (
        UniqueConstraint("patient_id", "cycle", name="uq_statement_notices_patient_cycle"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    cycle: Mapped[date]  # the statement date
    channel: Mapped[str] = mapped_column(String(16))  # email | letter
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(60))
    due_cents: Mapped[int]  # the amount the statement states as due (the one rule's due_now)
    attempts: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[int | None]  # the gateway's messages row of an email notice
    provider_id: Mapped[str | None] = mapped_column(String(200))  # the email's Message-ID
    error_code: Mapped[str | None] = mapped_column(String(16))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
