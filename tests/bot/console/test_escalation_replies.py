"""What the patient is told when the dialogue hands them to a person: inside office hours the
hours as configured; outside them also when a representative will answer. Each escalating
action runs on a real database with a fixed clock (Mon-Fri 08:00-17:00, New York)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.base import Turn, frustration_check
from actions.conversation import EscalateDispute, Fallback, RequestHuman
from actions.verify import ValidateVerifyForm
from billing.escalations.models import Escalation
from billing.verification import record_failure
from clinic.settings import Settings

SETTINGS = Settings(office_hours="Mon-Fri 08:00-17:00", clinic_timezone="America/New_York")
OFFICE_OPEN = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
EVENING = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)  # Wednesday 18:30 in New York
FRIDAY_NIGHT = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # Friday 20:00 in New York
SENDER = "web:0b9e3c52-7a41-4f0e-9d8a-2c6f1e5b7a90"
CLOSED = "Our billing office is closed right now."


def turn(session, now, text="I want to talk to a person", intent="request_human",
         events=None) -> Turn:
    tracker = Tracker(SENDER, {}, {"text": text, "intent": {"name": intent, "confidence": 0.95}},
                      events or [], False, None, {}, None)
    return Turn(CollectingDispatcher(), tracker, session, SETTINGS, now)


def said(t: Turn) -> str:
    return " ".join(m["text"] for m in t.dispatcher.messages)


def request_human(t):
    RequestHuman().respond(t)


def dispute(t):
    EscalateDispute().respond(t)


def low_confidence(t):
    fallback = {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    t.tracker.events = [fallback, fallback]
    Fallback().respond(t)


def frustration(t):
    t.tracker.latest_message["text"] = "this is ridiculous"
    frustration_check(t)


def locked(t):
    for _ in range(2):
        record_failure(t.session, SENDER, t.now)
    ValidateVerifyForm()._decide(t, [], "account", ["A1000"])


ESCALATIONS = [(request_human, "request_human"), (dispute, "dispute"),
               (low_confidence, "low_confidence"), (frustration, "frustration"),
               (locked, "verification_locked")]


@pytest.mark.parametrize("run,reason", ESCALATIONS)
def test_inside_office_hours_the_reply_states_the_hours_only(session, run, reason):
    t = turn(session, OFFICE_OPEN)
    run(t)
    assert SETTINGS.office_hours in said(t) and CLOSED not in said(t)
    assert session.scalars(select(Escalation.reason)).all() == [reason]


@pytest.mark.parametrize("run,reason", ESCALATIONS)
def test_outside_office_hours_the_reply_says_when_someone_answers(session, run, reason):
    t = turn(session, EVENING)
    run(t)
    assert said(t).endswith(f"{CLOSED} A representative will answer you tomorrow at 8:00 AM EST.")
    assert SETTINGS.office_hours in said(t)
    assert session.scalars(select(Escalation.reason)).all() == [reason]


def test_on_a_friday_night_the_answer_is_on_monday_after_the_clocks_change(session):
    t = turn(session, FRIDAY_NIGHT)
    request_human(t)
    assert said(t).endswith("A representative will answer you on Monday at 8:00 AM EDT.")


def test_unreadable_office_hours_never_stop_the_reply(session):
    t = turn(session, EVENING)
    t.settings = Settings(office_hours="whenever we can")
    request_human(t)
    assert "(whenever we can)" in said(t) and CLOSED not in said(t)
