"""A payment just posted: when nothing on the account is past due any more, the reminders
still pending for it are cancelled at once (not at the next run), by the same SQL rule the
reminder run selects with."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.reminders import outbox
from bot.reminders.reminders_models import ReminderOutbox
from bot.reminders.select import past_due_query


def still_past_due(session: Session, patient_id: int, today: date) -> bool:
    """Whether an amount that fell due before `today` is still open (allocation rule in SQL)."""
    past_due = past_due_query(today - timedelta(days=1))
    return session.execute(
        select(past_due.c.patient_id).where(past_due.c.patient_id == patient_id)).first() is not None


def stop_paid_reminders(session: Session, patient_id: int, today: date, now: datetime) -> int:
    """Cancel the account's pending reminders if it is no longer past due; how many."""
    if still_past_due(session, patient_id, today):
        return 0
    rows = session.scalars(select(ReminderOutbox.id).where(
        ReminderOutbox.patient_id == patient_id, ReminderOutbox.status == "pending")).all()
    for row_id in rows:
        outbox.cancel(session, row_id, "paid", now)
    return len(rows)
