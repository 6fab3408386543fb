"""The web chat's message limits, per session and per client address, counted in the
database (billing/throttle.py) so every gateway worker shares them. Over either, the patient
is asked to wait (Replies.too_many_messages) with HTTP 429; nothing reaches Rasa."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from billing import throttle
from billing.throttle import Limit
from clinic.settings import Settings

SESSION = "web_messages_session:"
ADDRESS = "web_messages_address:"


def count_message(engine: Engine, settings: Settings, session_id: str, client_ref: str,
                  now: datetime) -> None:
    """Count one web chat message; raises throttle.Throttled when over a limit."""
    per_session = Limit.minutes(settings.web_messages_per_minute_session, 1, 1)
    per_address = Limit.minutes(settings.web_messages_per_minute_address, 1, 1)
    with Session(engine) as s, s.begin():
        throttle.check(s, SESSION + session_id, now)
        throttle.check(s, ADDRESS + client_ref, now)
        throttle.hit(s, SESSION + session_id, per_session, now)
        throttle.hit(s, ADDRESS + client_ref, per_address, now)
