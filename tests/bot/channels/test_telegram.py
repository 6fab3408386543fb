"""Telegram: the webhook's secret token, update_id dedupe, private chats only, flood limits
and polling, with the real python-telegram-bot client against a local Bot API double."""
from __future__ import annotations

import itertools
import time

import pytest

from tests.doubles.telegram import text_update
from tests.gateway_support import BOT_TOKEN, PUBLIC, WEBHOOK_SECRET, Gateway, without

pytest_plugins = ["tests.gateway_support"]  # the doubles and settings fixtures

CHAT = 424242


def post_update(gw, update, secret=WEBHOOK_SECRET):
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return gw.client.post("/webhooks/telegram", json=update, headers=headers)


def test_a_message_is_answered_through_the_bot_api(settings, telegram_api, rasa):
    with Gateway(settings) as gw:
        assert post_update(gw, text_update(1001, CHAT, "what do I owe?")).status_code == 200
        gw.idle()
        [sent] = [r for r in telegram_api.requests if r.path.endswith("/sendMessage")]
        assert sent.path == f"/bot{BOT_TOKEN}/sendMessage"
        assert int(sent.params["chat_id"]) == CHAT
        assert sent.params["text"] == "Got it: what do I owe?"
        assert rasa.received == [{
            "sender": f"tg:{CHAT}", "message": "what do I owe?",
            "metadata": {"channel": "telegram", "channel_user": str(CHAT), "lang": "en"},
        }]
        inbound, outbound = gw.messages()
        assert (inbound.channel, inbound.external_id, inbound.status) == \
            ("telegram", "1001", "answered")
        assert outbound.status == "sent" and outbound.external_id.startswith(f"{CHAT}:")


def test_the_webhook_is_registered_with_the_secret_token_at_startup(settings, telegram_api):
    with Gateway(settings):
        pass
    [call] = telegram_api.calls("setWebhook")
    assert call["url"] == PUBLIC + "/webhooks/telegram"
    assert call["secret_token"] == WEBHOOK_SECRET


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", WEBHOOK_SECRET + "x"])
def test_a_missing_or_wrong_secret_token_is_refused_and_nothing_queued(
        settings, telegram_api, rasa, secret):
    with Gateway(settings) as gw:
        assert post_update(gw, text_update(1002, CHAT, "hi"), secret=secret).status_code == 403
        gw.idle()
        assert gw.messages() == []
    assert telegram_api.calls("sendMessage") == [] and rasa.received == []


def test_without_a_configured_secret_every_update_is_refused(settings, telegram_api):
    with Gateway(without(settings, telegram_webhook_secret="")) as gw:
        assert post_update(gw, text_update(1003, CHAT, "hi"), secret="").status_code == 403
        assert gw.messages() == []


def test_a_redelivered_update_is_answered_once(settings, telegram_api, rasa):
    with Gateway(settings) as gw:
        post_update(gw, text_update(1004, CHAT, "balance"))
        gw.idle()
        post_update(gw, text_update(1004, CHAT, "balance"))
        gw.idle()
        assert len(rasa.received) == 1
        assert len(telegram_api.calls("sendMessage")) == 1
        assert len(gw.messages("in")) == 1


def test_group_chats_are_ignored(settings, telegram_api, rasa):
    with Gateway(settings) as gw:
        resp = post_update(gw, text_update(1005, -100123, "my balance?", chat_type="supergroup"))
        assert resp.status_code == 200
        gw.idle()
        assert gw.messages() == []
    assert rasa.received == []


def test_not_an_update_is_a_400(settings):
    with Gateway(settings) as gw:
        resp = gw.client.post("/webhooks/telegram", content=b"not json",
                              headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
        assert resp.status_code == 400
        assert gw.messages() == []


@pytest.mark.parametrize("body", [
    "a string", 7, None, [], {"update_id": "1"},
    {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi",
                                 "chat": {"id": {}, "type": "private"}}},
    {"update_id": 2, "message": {"message_id": 1, "date": 0, "text": ["hi"],
                                 "chat": {"id": 5, "type": "private"}}},
    {"update_id": 3, "message": "hi"},
    {"update_id": 4, "message": {"message_id": 1, "date": 10**20, "text": "hi",
                                 "chat": {"id": 5, "type": "private"}}},  # past time_t
    {"update_id": 5, "message": {"message_id": 1, "date": 10**15, "text": "hi",
                                 "chat": {"id": 5, "type": "private"}}},  # EOVERFLOW
])
def test_json_that_is_no_readable_update_is_a_400_and_nothing_queued(settings, rasa, body):
    with Gateway(settings) as gw:
        assert post_update(gw, body).status_code == 400
        gw.idle()
        assert gw.messages() == []
    assert rasa.received == []


def test_retry_after_is_obeyed(settings, telegram_api, rasa):
    telegram_api.fail_next("sendMessage", status=429, retry_after=1)
    with Gateway(settings) as gw:
        post_update(gw, text_update(1006, CHAT, "hello"))
        gw.idle()
        times = telegram_api.call_times("sendMessage")
        assert len(times) == 2
        assert times[1] - times[0] >= 1.0
        assert [m.status for m in gw.messages("out")] == ["sent"]


def test_replies_to_one_chat_are_spaced_a_second_apart(settings, telegram_api, rasa):
    rasa.answer = lambda sender, text: ["first", "second", "third"]
    with Gateway(settings) as gw:
        post_update(gw, text_update(1007, CHAT, "hello"))
        gw.idle()
    times = telegram_api.call_times("sendMessage")
    assert [c["text"] for c in telegram_api.calls("sendMessage")] == ["first", "second", "third"]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))


def test_a_blocked_bot_is_recorded_as_a_failed_delivery(settings, telegram_api, rasa):
    telegram_api.fail_next("sendMessage", status=403,
                           description="Forbidden: bot was blocked by the user")
    with Gateway(settings) as gw:
        post_update(gw, text_update(1008, CHAT, "hello"))
        gw.idle()
        [out] = gw.messages("out")
        assert (out.status, out.error_code) == ("failed", "forbidden")


def test_polling_mode_feeds_the_same_pipeline(settings, telegram_api, rasa):
    telegram_api.push_update(text_update(2001, CHAT, "hello from polling"))
    with Gateway(settings, telegram_polling=True) as gw:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not telegram_api.calls("sendMessage"):
            time.sleep(0.1)
        gw.idle()
        assert [c["text"] for c in telegram_api.calls("sendMessage")] == \
            ["Got it: hello from polling"]
        assert telegram_api.calls("deleteWebhook")
        assert telegram_api.calls("setWebhook") == []
        assert gw.messages("in")[0].external_id == "2001"


def _patient_on_chat(engine, chat_id):
    from datetime import date

    from sqlalchemy.orm import Session

    from billing.db.models import Patient

    with Session(engine) as s, s.begin():
        p = Patient(account_number="T100", first_name="Tess", last_name="Lee",
                    date_of_birth=date(1980, 1, 2), telegram_chat_id=chat_id,
                    preferred_channel="telegram")
        s.add(p)
        s.flush()
        return p.id


def _telegram_opted_out_at(engine, patient_id):
    from sqlalchemy.orm import Session

    from billing.db.models import Patient

    with Session(engine) as s:
        return s.get(Patient, patient_id).telegram_opted_out_at


def test_stop_in_a_telegram_chat_ends_reminders_there_and_start_resumes_them(
        settings, telegram_api, rasa):
    with Gateway(settings) as gw:
        pid = _patient_on_chat(gw.engine, CHAT)
        post_update(gw, text_update(2001, CHAT, "STOP"))
        gw.idle()
        assert _telegram_opted_out_at(gw.engine, pid) is not None
        assert rasa.received == []  # consent words never reach the assistant
        [confirm] = telegram_api.calls("sendMessage")
        assert "no more reminders" in confirm["text"]
        # a bare "yes" is an answer to the assistant, never a re-subscription
        post_update(gw, text_update(2002, CHAT, "yes"))
        gw.idle()
        assert [r["message"] for r in rasa.received] == ["yes"]
        assert _telegram_opted_out_at(gw.engine, pid) is not None
        post_update(gw, text_update(2003, CHAT, "START"))
        gw.idle()
        assert _telegram_opted_out_at(gw.engine, pid) is None
        assert "reminders are on again" in telegram_api.calls("sendMessage")[-1]["text"]
        # /start in a chat that never opted out is the assistant's greeting turn
        post_update(gw, text_update(2004, CHAT, "/start"))
        gw.idle()
        assert [r["message"] for r in rasa.received] == ["yes", "start"]
