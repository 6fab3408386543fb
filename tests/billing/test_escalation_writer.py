"""One escalation writer (billing.escalations.service.escalate) behind the bot's actions, the
gateway's 'assistant unavailable' queueing and a representative's take-over, with one
priority rule: a reason's priority, and an open escalation asked for again keeps the more
urgent of the two."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.errors import RequestError
from billing.escalations.enums import OPEN, PRIORITY, EscalationReason, EscalationStatus
from billing.escalations.models import Escalation
from billing.escalations.service import escalate, open_for_sender, take_over
from billing.verification import record_success
from bot import message_store as store
from tests.dialogue_factories import add_patient

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def _rows(engine) -> list[Escalation]:
    with Session(engine) as s:
        return list(s.scalars(select(Escalation).order_by(Escalation.id)))


def test_every_reason_has_a_priority_and_open_means_queued_or_assigned():
    assert set(PRIORITY) == set(EscalationReason)
    assert {"queued", "assigned"} == OPEN
    assert EscalationStatus.CLOSED not in OPEN


def test_the_gateway_queues_a_new_escalation_at_priority_one(engine):
    esc_id = store.queue_escalation(engine, sender_key="web:a", channel="web",
                                    reason="assistant_unavailable", now=NOW)
    [row] = _rows(engine)
    assert (row.id, row.reason, row.priority, row.status, row.patient_id) == (
        esc_id, "assistant_unavailable", 1, "queued", None)


def test_the_gateway_reuses_the_bots_open_escalation_and_raises_its_priority(engine):
    with Session(engine) as s, s.begin():
        first = escalate(session=s, sender_key="web:a", channel="web",
                         reason=EscalationReason.LOW_CONFIDENCE, now=NOW).id
    again = store.queue_escalation(engine, sender_key="web:a", channel="web",
                                   reason="assistant_unavailable", now=NOW)
    [row] = _rows(engine)
    assert again == first and (row.reason, row.priority) == ("low_confidence", 1)


def test_a_less_urgent_reason_never_lowers_the_priority(session):
    escalate(session=session, sender_key="sms:+15550001111", channel="sms",
             reason="frustration", now=NOW)
    esc = escalate(session=session, sender_key="sms:+15550001111", channel="sms",
                   reason="low_confidence", now=NOW)
    assert esc.priority == 1


def test_the_gateway_names_the_verified_patient(engine):
    with Session(engine) as s, s.begin():
        pid = add_patient(s).id
        record_success(s, "web:a", pid, NOW)
    store.queue_escalation(engine, sender_key="web:a", channel="web",
                           reason="assistant_unavailable", now=NOW)
    assert [r.patient_id for r in _rows(engine)] == [pid]


def test_a_closed_escalation_is_not_reused(session):
    esc = escalate(session=session, sender_key="web:b", channel="web",
                   reason="request_human", now=NOW)
    esc.status = EscalationStatus.CLOSED
    session.flush()
    assert open_for_sender(session=session, sender_key="web:b") is None
    assert escalate(session=session, sender_key="web:b", channel="web",
                    reason="request_human", now=NOW).id != esc.id


def test_take_over_keeps_an_open_escalations_priority(session):
    queued = escalate(session=session, sender_key="web:c", channel="web",
                      reason="low_confidence", now=NOW)
    taken = take_over(session=session, sender_key="web:c", channel="web", patient_id=None,
                      username="ana", now=NOW)
    assert (taken.id, taken.priority, taken.status, taken.assigned_to) == (
        queued.id, 3, "assigned", "ana")


def test_take_over_without_an_escalation_writes_one_assigned_at_priority_two(session):
    esc = take_over(session=session, sender_key="web:d", channel="web", patient_id=None,
                    username="ana", now=NOW)
    assert (esc.reason, esc.priority, esc.status, esc.assigned_to) == (
        "representative_takeover", 2, "assigned", "ana")


def test_an_unknown_reason_or_a_naive_instant_is_refused(session):
    with pytest.raises(RequestError):
        escalate(session=session, sender_key="web:e", channel="web", reason="bored", now=NOW)
    with pytest.raises(ValueError):
        escalate(session=session, sender_key="web:e", channel="web", reason="dispute",
                 now=NOW.replace(tzinfo=None))
    assert session.scalars(select(Escalation)).all() == []
