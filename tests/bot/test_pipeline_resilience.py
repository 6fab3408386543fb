"""When Rasa (or the action server behind it) is down or slow: the patient hears the clinic
will follow up, the conversation is queued for a representative and nothing is lost."""
from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.clock import FixedClock
from billing.escalations.models import Escalation
from clinic.settings import ROOT
from tests.gateway_support import PATIENT_PHONE, Gateway

pytest_plugins = ["tests.gateway_support"]  # the doubles and settings fixtures

MODEL = ROOT / "models" / "current"


def escalations(gw) -> list[Escalation]:
    with Session(gw.engine) as s:
        return list(s.scalars(select(Escalation).order_by(Escalation.id)))


def say(gw, text, sender="visitor-1") -> list[str]:
    resp = gw.client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert resp.status_code == 200
    return [m["text"] for m in resp.json()]


def assert_followed_up(gw, replies, sender_key, channel):
    assert len(replies) == 1 and "follow up" in replies[0]
    [esc] = escalations(gw)
    assert (esc.sender_key, esc.channel, esc.reason, esc.priority, esc.status) == \
        (sender_key, channel, "assistant_unavailable", 1, "queued")
    assert esc.patient_id is None


def test_rasa_stopped_mid_conversation_on_web(settings, rasa):
    with Gateway(settings) as gw:
        assert say(gw, "hello") == ["Got it: hello"]
        rasa.close()
        replies = say(gw, "what do I owe?")
        assert_followed_up(gw, replies, "web:visitor-1", "web")
        inbound = gw.messages("in")
        assert [(m.text, m.status) for m in inbound] == \
            [("hello", "answered"), ("what do I owe?", "unanswered")]
        say(gw, "hello?")  # still down: the same escalation, not a second one
        assert len(escalations(gw)) == 1


def test_rasa_stopped_mid_conversation_on_sms(settings, rasa, twilio_api):
    with Gateway(settings) as gw:
        gw.sms("hello", "SM1")
        gw.idle()
        rasa.close()
        gw.sms("what do I owe?", "SM2")
        gw.idle()
        assert "follow up" in twilio_api.sent[-1]["Body"] or \
            "follow up" in " ".join(s["Body"] for s in twilio_api.sent[1:])
        assert [m.status for m in gw.messages("in")] == ["answered", "unanswered"]
        assert [e.reason for e in escalations(gw)] == ["assistant_unavailable"]


@pytest.mark.parametrize("now,when", [
    (datetime(2026, 3, 4, 15, 0, tzinfo=UTC), None),  # Wednesday 10:00 in New York: open
    (datetime(2026, 3, 4, 23, 30, tzinfo=UTC), "tomorrow at 8:00 AM EST"),
    (datetime(2026, 3, 7, 1, 0, tzinfo=UTC), "on Monday at 8:00 AM EDT"),  # Friday night; clocks change on Sunday
])
def test_outside_office_hours_the_patient_hears_when_someone_answers(settings, rasa, now, when):
    rasa.close()
    hours = settings.replace(office_hours="Mon-Fri 08:00-17:00",
                    clinic_timezone="America/New_York")
    with Gateway(hours, clock=FixedClock(now)) as gw:
        [reply] = say(gw, "what do I owe?")
        assert_followed_up(gw, [reply], "web:visitor-1", "web")
        assert "(Mon-Fri 08:00-17:00)" in reply
        if when is None:
            assert "will follow up with you soon" in reply and "closed" not in reply
        else:
            assert f"Our billing office is closed right now. A representative will answer you {when}." in reply


def test_a_slow_rasa_counts_as_unavailable(settings, rasa):
    rasa.delay_s = 3.0
    with Gateway(settings.replace(rasa_timeout_s=0.5)) as gw:
        replies = say(gw, "what do I owe?")
        assert_followed_up(gw, replies, "web:visitor-1", "web")


def test_an_empty_answer_from_rasa_is_followed_up(settings, rasa):
    rasa.answer = lambda sender, text: []
    with Gateway(settings) as gw:
        assert_followed_up(gw, say(gw, "hello"), "web:visitor-1", "web")


def test_an_assigned_conversation_goes_to_the_representative_not_rasa(settings, rasa):
    with Gateway(settings) as gw:
        with Session(gw.engine) as s, s.begin():
            s.add(Escalation(sender_key="web:visitor-1", channel="web", reason="patient_asked",
                             status="assigned", assigned_to="rep:alice"))
        assert say(gw, "are you there?") == []
        assert gw.messages("in")[0].status == "for_representative"
    assert rasa.received == []


def test_a_representative_reply_goes_out_over_the_patients_channel(settings, twilio_api):
    with Gateway(settings) as gw:
        sent = gw.client.portal.call(
            gw.app.state.pipeline.deliver, "sms:" + PATIENT_PHONE, ["Hi, this is Alice."])
        assert sent == ["Hi, this is Alice."]
        assert twilio_api.sent[0]["Body"] == "Hi, this is Alice."


@pytest.mark.e2e
def test_real_rasa_stopped_in_the_middle_of_a_conversation(settings, tmp_path):
    from bot.processes import free_port, start_action_server, start_rasa

    if not MODEL.exists():
        pytest.fail("no trained model at models/current: run `billbot train` first")
    actions = start_action_server(free_port(), log_path=tmp_path / "actions.log",
                                  database_url=settings.database_url)
    rasa_proc = None
    try:
        port = free_port()
        rasa_proc = start_rasa(port, model=MODEL.resolve(), action_url=actions.url, work_dir=tmp_path)
        live = settings.replace(rasa_url=f"http://127.0.0.1:{port}", rasa_timeout_s=30.0)
        with Gateway(live) as gw:
            first = say(gw, "hello")
            assert first and not any("follow up" in r for r in first)
            rasa_proc.stop()
            with pytest.raises(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            replies = say(gw, "what do I owe?")
            assert_followed_up(gw, replies, "web:visitor-1", "web")
            assert [m.status for m in gw.messages("in")] == ["answered", "unanswered"]
    finally:
        if rasa_proc is not None:
            rasa_proc.stop()
        actions.stop()
