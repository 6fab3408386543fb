"""The escalation queue (order, one taker, hand back) and the clinic's office hours."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from billing.escalations.models import Escalation
from bot.console import queue
from clinic.office_hours import (
    OfficeHoursError,
    away_sentence,
    is_open,
    next_opening,
    parse_office_hours,
)
from clinic.settings import Settings
from tests.console_support import NOW, add_escalation


def test_queue_is_ordered_by_priority_then_age(engine, session):
    low_old = add_escalation(engine, sender_key="web:a", priority=3, created_at=NOW - timedelta(hours=5))
    high_new = add_escalation(engine, sender_key="web:b", priority=1, created_at=NOW)
    high_old = add_escalation(engine, sender_key="web:c", priority=1, created_at=NOW - timedelta(hours=1))
    mid = add_escalation(engine, sender_key="web:d", priority=2, created_at=NOW - timedelta(hours=2))
    add_escalation(engine, sender_key="web:e", priority=1, status="closed")
    assert [e.id for e in queue.open_escalations(session)] == [high_old, high_new, mid, low_old]


def test_two_representatives_taking_at_once_one_wins(engine):
    esc_id = add_escalation(engine)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(name):
        with Session(engine) as s:
            barrier.wait()
            try:
                queue.take(s, esc_id, name)
                s.commit()
                outcomes[name] = "won"
            except queue.AlreadyTaken:
                s.rollback()
                outcomes[name] = "lost"

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("ana", "ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(n for n, o in outcomes.items() if o == "won")
    with Session(engine) as s:
        esc = s.get(Escalation, esc_id)
        assert (esc.status, esc.assigned_to) == ("assigned", winner)


def test_taking_again_is_harmless_and_closed_cannot_be_taken(engine, session):
    esc_id = add_escalation(engine)
    closed = add_escalation(engine, sender_key="web:x", status="closed")
    queue.take(session, esc_id, "ana")
    assert queue.take(session, esc_id, "ana").assigned_to == "ana"
    with pytest.raises(queue.AlreadyTaken):
        queue.take(session, esc_id, "ben")
    with pytest.raises(queue.QueueError):
        queue.take(session, closed, "ana")


def test_return_to_bot_needs_the_holder_and_a_note(engine, session):
    esc = queue.get(session, add_escalation(engine, status="assigned", assigned_to="ana"))
    with pytest.raises(queue.QueueError):
        queue.return_to_bot(session, esc, "ben", "done", NOW)
    with pytest.raises(queue.QueueError):
        queue.return_to_bot(session, esc, "ana", "   ", NOW)
    assert esc.status == "assigned"
    queue.return_to_bot(session, esc, "ana", "Explained the lab charge.", NOW)
    assert (esc.status, esc.closed_at, esc.note) == ("closed", NOW, "Explained the lab charge.")
    assert [n.body for n in queue.notes(session, esc.id)] == ["Explained the lab charge."]


def test_take_over_assigns_a_conversation_the_bot_is_having(session):
    esc = queue.take_over(session, "sms:+15550100", "sms", None, "ana", NOW)
    assert (esc.status, esc.assigned_to, esc.reason) == ("assigned", "ana", "representative_takeover")
    assert queue.take_over(session, "sms:+15550100", "sms", None, "ana", NOW).id == esc.id


# -- office hours ------------------------------------------------------------------------
HOURS = Settings(office_hours="Mon-Fri 08:00-17:00; Sat 09:00-12:00",
                 clinic_timezone="America/New_York")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("now,opening", [
    ("2026-03-04T15:00:00+00:00", "2026-03-04T10:00:00-05:00"),  # Wed 10:00: open now
    ("2026-03-04T22:30:00+00:00", "2026-03-05T08:00:00-05:00"),  # Wed 17:30 -> Thu 8:00
    ("2026-03-06T22:30:00+00:00", "2026-03-07T09:00:00-05:00"),  # Fri evening -> Sat 9:00
    ("2026-03-07T17:00:00+00:00", "2026-03-09T08:00:00-04:00"),  # Sat noon -> Mon, after DST
    ("2026-03-04T12:59:00+00:00", "2026-03-04T08:00:00-05:00"),  # Wed 7:59 -> same day
])
def test_next_opening_in_the_clinic_time_zone(now, opening):
    assert next_opening(HOURS, _at(now)) == _at(opening)


def test_closing_minute_is_closed():
    assert is_open(HOURS, _at("2026-03-04T21:59:00+00:00"))
    assert not is_open(HOURS, _at("2026-03-04T22:00:00+00:00"))


def test_away_sentence_says_when_someone_answers():
    assert away_sentence(HOURS, _at("2026-03-04T15:00:00+00:00")) is None
    assert away_sentence(HOURS, _at("2026-03-05T10:00:00+00:00")) == (
        "Our billing office is closed right now. A representative will answer you "
        "today at 8:00 AM EST.")
    assert away_sentence(HOURS, _at("2026-03-04T23:00:00+00:00")).endswith(
        "tomorrow at 8:00 AM EST.")
    assert away_sentence(HOURS, _at("2026-03-07T18:00:00+00:00")).endswith(
        "on Monday at 8:00 AM EDT.")


def test_wrapping_day_range_and_bad_configuration():
    assert [w.weekday for w in parse_office_hours("Fri-Mon 10:00-14:00")] == [0, 4, 5, 6]
    for bad in ("", "Mon-Fri", "Mon-Fri 17:00-08:00", "Funday 08:00-17:00", "Mon 25:00-26:00"):
        with pytest.raises(OfficeHoursError):
            parse_office_hours(bad)
    with pytest.raises(ValueError):
        next_opening(HOURS, datetime(2026, 3, 4, 10, 0))  # noqa: DTZ001 - naive: refused
    assert next_opening(HOURS, datetime(2026, 3, 4, 15, 0, tzinfo=UTC)).utcoffset() == timedelta(hours=-5)
