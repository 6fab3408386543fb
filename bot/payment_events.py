"""The gateway's side of a processor event: handle it once in one transaction (the ledger,
the plan, the audit log, the event's own row), stop the reminders of an account it paid up,
and leave the notices for the caller to send once that is committed."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.payments.events import EventResult, receive_event
from billing.payments.processor import Event, PaymentProcessor
from bot.reminders.stop import stop_paid_reminders


def handle_event(engine: Engine, processor: PaymentProcessor, event: Event, now: datetime,
                 clinic_timezone: str) -> EventResult:
    """Handle a verified event; a duplicate racing it in another worker is answered as one."""
    posted = now.astimezone(ZoneInfo(clinic_timezone)).date()
    try:
        with Session(engine) as s, s.begin():
            result = receive_event(session=s, processor=processor, event=event, now=now,
                                   posted=posted)
            for patient_id in dict.fromkeys(result.paid_patients):
                stop_paid_reminders(s, patient_id, posted, now)
    except IntegrityError:
        return EventResult("duplicate")
    return result
