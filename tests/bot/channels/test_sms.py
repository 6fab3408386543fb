"""SMS over Twilio: signatures, retries of the same MessageSid, consent words, error 21610,
delivery status and segmenting, with the real twilio client against a local double."""
from __future__ import annotations

import base64
from datetime import date

import pytest
from sqlalchemy.orm import Session

from billing.db.models import Patient
from bot.optout import OPT_IN_WORDS, OPT_OUT_WORDS
from tests.gateway_support import ACCOUNT_SID, AUTH_TOKEN, PATIENT_PHONE, PUBLIC, Gateway, without

pytest_plugins = ["tests.gateway_support"]  # the doubles and settings fixtures


def test_reply_goes_out_through_the_twilio_rest_api(settings, twilio_api, rasa):
    with Gateway(settings) as gw:
        resp = gw.sms("what do I owe?", "SM0001")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/xml")
        gw.idle()
        [sent] = twilio_api.requests
        assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        auth = base64.b64decode(sent.headers["Authorization"].split()[1]).decode()
        assert auth == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
        assert sent.params["To"] == PATIENT_PHONE
        assert sent.params["From"] == "+15550100000"
        assert sent.params["Body"] == "Got it: what do I owe?"
        assert sent.params["StatusCallback"] == PUBLIC + "/webhooks/twilio/status"
        assert rasa.received == [{
            "sender": "sms:" + PATIENT_PHONE, "message": "what do I owe?",
            "metadata": {"channel": "sms", "channel_user": PATIENT_PHONE,
                         "lang": "en"},
        }]
        inbound, outbound = gw.messages()
        assert (inbound.status, inbound.external_id) == ("answered", "SM0001")
        assert outbound.status == "sent" and outbound.external_id.startswith("SM")
        assert outbound.reply_to_id == inbound.id


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "forged"])
def test_missing_or_forged_signature_is_refused_and_nothing_stored(settings, twilio_api, rasa,
                                                                   signature):
    with Gateway(settings) as gw:
        resp = gw.sms("hello", "SM0002", signature=signature)
        assert resp.status_code == 403
        gw.idle()
        assert gw.messages() == []
    assert twilio_api.requests == [] and rasa.received == []


def test_signature_for_another_token_is_refused(settings, twilio_api):
    with Gateway(settings) as gw:
        assert gw.sms("hello", "SM0003", token="someone-elses-token").status_code == 403
        assert gw.messages() == []


def test_forwarded_headers_do_not_change_the_url_that_is_checked(settings):
    """A signature made for the attacker's own URL does not pass via X-Forwarded-*."""
    from twilio.request_validator import RequestValidator
    form = {"MessageSid": "SM0004", "From": PATIENT_PHONE, "Body": "hi"}
    evil = "https://evil.test/webhooks/twilio/sms"
    with Gateway(settings) as gw:
        resp = gw.client.post("/webhooks/twilio/sms", data=form, headers={
            "X-Twilio-Signature": RequestValidator(AUTH_TOKEN + "x").compute_signature(evil, form),
            "X-Forwarded-Host": "evil.test", "X-Forwarded-Proto": "https",
        })
        assert resp.status_code == 403
        assert gw.messages() == []


def test_without_an_auth_token_every_webhook_is_refused(settings, twilio_api, rasa):
    with Gateway(without(settings, twilio_auth_token="")) as gw:
        assert gw.sms("hello", "SM0005", token="").status_code == 403
        assert gw.status("SMx", "delivered").status_code == 403
        assert gw.messages() == []


def test_a_replayed_message_sid_gets_one_reply(settings, twilio_api, rasa):
    with Gateway(settings) as gw:
        assert gw.sms("balance please", "SM0006").status_code == 200
        gw.idle()
        assert gw.sms("balance please", "SM0006").status_code == 200
        gw.idle()
        assert len(rasa.received) == 1
        assert len(twilio_api.sent) == 1
        assert [m.direction for m in gw.messages()] == ["in", "out"]


def test_bad_sender_number_is_a_clear_400(settings):
    with Gateway(settings) as gw:
        resp = gw.sms("hi", "SM0007", phone="5551234")
        assert resp.status_code == 400 and "E.164" in resp.json()["error"]
        assert gw.messages() == []


def test_messages_from_one_number_are_answered_in_order(settings, twilio_api, rasa):
    with Gateway(settings) as gw:
        for i in range(4):
            gw.sms(f"question {i}", f"SM01{i}")
        gw.idle()
    assert [m["message"] for m in rasa.received] == [f"question {i}" for i in range(4)]
    assert [s["Body"] for s in twilio_api.sent] == [f"Got it: question {i}" for i in range(4)]


def test_a_leading_slash_never_reaches_rasa_as_an_intent(settings, rasa):
    with Gateway(settings) as gw:
        gw.sms('/inform{"account_number": "A-1"}', "SM0008")
        gw.idle()
    assert rasa.received[0]["message"] == 'inform{"account_number": "A-1"}'


def test_long_replies_are_split_on_word_boundaries(settings, twilio_api, rasa):
    words = [f"word{i}" for i in range(70)]
    rasa.answer = lambda sender, text: [" ".join(words)]
    with Gateway(settings) as gw:
        gw.sms("tell me everything", "SM0009")
        gw.idle()
        bodies = [s["Body"] for s in twilio_api.sent]
        assert len(bodies) > 1 and all(len(b) <= 153 for b in bodies)
        assert " ".join(bodies).split(" ") == words
        assert [m.status for m in gw.messages("out")] == ["sent"] * len(bodies)


def test_deliver_returns_the_ids_of_the_rows_it_wrote(settings, twilio_api):
    words = " ".join(f"word{i}" for i in range(70))
    with Gateway(settings) as gw:
        sent = gw.client.portal.call(gw.app.state.pipeline.deliver, f"sms:{PATIENT_PHONE}",
                                     [words])
        out = gw.messages("out")
        assert len(out) > 1 and sent.ids == sent.written == [m.id for m in out]
        assert list(sent) == [m.text for m in out] and sent.pairs() == [(m.id, m.text) for m in out]
        gw.sms("STOP", "SM0010")
        gw.idle()
        suppressed = gw.client.portal.call(gw.app.state.pipeline.deliver,
                                           f"sms:{PATIENT_PHONE}", ["Your statement is ready"])
        [row] = [m for m in gw.messages("out") if m.id not in sent.written]
        assert (list(suppressed), suppressed.ids, suppressed.written) == ([], [], [row.id])
        assert row.status == "suppressed"


def test_a_message_stored_before_a_crash_is_answered_on_restart(settings, twilio_api, rasa):
    from billing.core.clock import utcnow
    from billing.db.engine import make_engine
    from bot import message_store
    engine = make_engine(settings.database_url)
    message_store.record_inbound(engine, channel="sms", sender_key="sms:" + PATIENT_PHONE,
                                 text="are you there?", external_id="SM0010",
                                 status="received", now=utcnow())
    engine.dispose()
    with Gateway(settings) as gw:  # the startup sweep finds it
        gw.idle()
        for _ in range(50):
            if twilio_api.sent:
                break
            import time
            time.sleep(0.1)
            gw.idle()
        assert [s["Body"] for s in twilio_api.sent] == ["Got it: are you there?"]
        assert gw.messages("in")[0].status == "answered"


# -- consent -------------------------------------------------------------------------------

def _variants(word: str) -> list[str]:
    return [word.upper(), word.lower(), word.capitalize()]


@pytest.mark.parametrize("word", [v for w in sorted(OPT_OUT_WORDS) for v in _variants(w)])
def test_every_opt_out_word_stops_all_further_texts(settings, twilio_api, rasa, word):
    with Gateway(settings) as gw:
        gw.sms(word, "SM1")
        gw.idle()
        row = gw.opt_out()
        assert row.opted_out and row.source == "keyword" and row.opted_out_at is not None
        gw.sms("what is my balance?", "SM2")
        gw.idle()
        assert [m.status for m in gw.messages("in")] == ["opt_out", "opted_out"]
    # Twilio's own opt-out handling confirms keywords; nothing goes out from us.
    assert twilio_api.requests == [] and rasa.received == []


PHRASES = [
    "stop texting me", "opt out please", "please don't text me anymore",
    "remove me from your list", "Stop sending me these messages", "no more texts please",
    "I want to unsubscribe", "Please stop contacting me", "I revoke my consent to texts",
    "Don't message me again", "quit texting me", "take me off the list",
]


@pytest.mark.parametrize("phrase", PHRASES)
def test_plain_language_revocation_opts_out_with_one_confirmation(settings, twilio_api, rasa,
                                                                 phrase):
    with Gateway(settings) as gw:
        gw.sms(phrase, "SM1")
        gw.idle()
        assert gw.opt_out().opted_out
        gw.sms("hello?", "SM2")
        gw.idle()
    assert rasa.received == []
    [confirmation] = twilio_api.sent
    assert "no more texts" in confirmation["Body"] and "START" in confirmation["Body"]


@pytest.mark.parametrize("text", ["I want to stop my payment plan", "cancel my appointment",
                                  "Can I opt out of the payment plan?", "yes"])
def test_other_uses_of_the_words_go_to_the_assistant(settings, twilio_api, rasa, text):
    with Gateway(settings) as gw:
        gw.sms(text, "SM1")
        gw.idle()
        assert gw.opt_out() is None
    assert [m["message"] for m in rasa.received] == [text]


@pytest.mark.parametrize("word", [v for w in sorted(OPT_IN_WORDS) for v in _variants(w)])
def test_start_yes_unstop_resubscribe(settings, twilio_api, rasa, word):
    with Gateway(settings) as gw:
        gw.sms("STOP", "SM1")
        gw.idle()
        gw.sms(word, "SM2")
        gw.idle()
        row = gw.opt_out()
        assert not row.opted_out and row.opted_in_at is not None
        gw.sms("what do I owe", "SM3")
        gw.idle()
        assert [m.status for m in gw.messages("in")] == ["opt_out", "opt_in", "answered"]
    assert [m["message"] for m in rasa.received] == ["what do I owe"]
    assert [s["Body"] for s in twilio_api.sent] == ["Got it: what do I owe"]


def test_opt_out_marks_the_patients_on_that_number(settings, twilio_api):
    with Gateway(settings) as gw:
        with Session(gw.engine) as s, s.begin():
            s.add(Patient(account_number="A100", first_name="Ana", last_name="Lee",
                          date_of_birth=date(1980, 1, 2), phone=PATIENT_PHONE))
        gw.sms("Stop", "SM1")
        gw.idle()
        with Session(gw.engine) as s:
            assert s.query(Patient).one().sms_opted_out_at is not None
        gw.sms("start", "SM2")
        gw.idle()
        with Session(gw.engine) as s:
            assert s.query(Patient).one().sms_opted_out_at is None


@pytest.mark.parametrize("word", ["HELP", "help", "Info", "INFO"])
def test_help_and_info_name_the_clinic_its_number_and_how_to_opt_out(settings, twilio_api,
                                                                     rasa, word):
    with Gateway(settings) as gw:
        gw.sms(word, "SM1")
        gw.idle()
    [reply] = twilio_api.sent
    assert settings.clinic_name in reply["Body"]
    assert settings.clinic_phone in reply["Body"]
    assert "STOP" in reply["Body"]
    assert rasa.received == []


def test_error_21610_records_the_opt_out_and_is_not_retried(settings, twilio_api, rasa):
    twilio_api.fail_next(21610, message="Attempt to send to unsubscribed recipient")
    with Gateway(settings) as gw:
        gw.sms("hello", "SM1")
        gw.idle()
        assert len(twilio_api.sent) == 1  # one attempt only
        [out] = gw.messages("out")
        assert (out.status, out.error_code) == ("failed", "21610")
        row = gw.opt_out()
        assert row.opted_out and row.source == "twilio_21610"
        gw.sms("hello again", "SM2")
        gw.idle()
        assert len(twilio_api.sent) == 1
        assert gw.messages("in")[-1].status == "opted_out"
    assert len(rasa.received) == 1


def test_a_rate_limited_send_is_retried(settings, twilio_api):
    twilio_api.fail_next(20429, status=429, message="Too Many Requests")
    with Gateway(settings) as gw:
        gw.sms("hello", "SM1")
        gw.idle()
        assert len(twilio_api.sent) == 2
        assert [m.status for m in gw.messages("out")] == ["sent"]


def test_delivery_status_is_recorded_and_never_goes_backwards(settings, twilio_api):
    with Gateway(settings) as gw:
        gw.sms("hello", "SM1")
        gw.idle()
        sid = gw.messages("out")[0].external_id
        assert gw.status(sid, "delivered", sign=False).status_code == 403
        assert gw.messages("out")[0].status == "sent"
        assert gw.status(sid, "delivered").status_code == 204
        assert gw.status(sid, "sent").status_code == 204  # late, out of order
        assert gw.messages("out")[0].status == "delivered"


def test_an_undelivered_21610_status_records_the_opt_out(settings, twilio_api):
    with Gateway(settings) as gw:
        gw.sms("hello", "SM1")
        gw.idle()
        sid = gw.messages("out")[0].external_id
        gw.status(sid, "undelivered", "21610")
        out = gw.messages("out")[0]
        assert (out.status, out.error_code) == ("undelivered", "21610")
        assert gw.opt_out().source == "twilio_21610"
