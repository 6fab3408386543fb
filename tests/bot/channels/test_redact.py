"""Card numbers are masked before Rasa, the logs and the database; the logs carry no patient
data or secrets."""
from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.logging import configure_logging
from bot.redact import CARD_MASK, luhn_ok, mask_cards
from tests.doubles.telegram import text_update
from tests.gateway_support import (
    AUTH_TOKEN,
    BOT_TOKEN,
    PATIENT_PHONE,
    WEBHOOK_SECRET,
    Gateway,
    without,
)

pytest_plugins = ["tests.gateway_support"]  # the doubles and settings fixtures

VISA = "4111111111111111"
AMEX = "378282246310005"


@pytest.mark.parametrize("number", [VISA, AMEX, "6011111111111117", "5555555555554444",
                                    "4111 1111 1111 1111", "4111-1111-1111-1111",
                                    "3782 822463 10005", "4222222222222"])
def test_card_numbers_in_any_grouping_are_masked(number):
    r = mask_cards(f"my card is {number} thanks")
    assert r.text == f"my card is {CARD_MASK} thanks" and r.cards_found == 1


@pytest.mark.parametrize("text", [
    "call me at 555-010-2000", "account A1000, claim 123456789012", "4111111111111112",
    "12345678901234567890123", "$1,234.56 on 2025-03-03",
])
def test_other_numbers_stay(text):
    assert mask_cards(text).text == text


def test_a_card_followed_by_other_digits_is_still_found():
    assert mask_cards(f"{VISA} 12/27").text == f"{CARD_MASK} 12/27"
    assert mask_cards(f"{VISA} and {AMEX}").cards_found == 2


def test_a_labelled_security_code_is_masked_too():
    assert "123" not in mask_cards(f"card {VISA} cvv 123").text


def test_luhn():
    assert luhn_ok(VISA) and luhn_ok(AMEX) and not luhn_ok("4111111111111112")


def _db_bytes(url: str) -> bytes:
    path = Path(url.split("///", 1)[1])
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_a_card_number_is_masked_everywhere_it_could_land(settings, twilio_api, telegram_api,
                                                         rasa):
    log = io.StringIO()
    handler = configure_logging(without(settings, log_level="DEBUG"), stream=log)
    try:
        with Gateway(settings) as gw:
            gw.sms("pay with 4111 1111 1111 1111 exp 12/27", "SM1")
            gw.client.post("/webhooks/telegram", json=text_update(5001, 777, f"card {VISA}"),
                           headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
            resp = gw.client.post("/webhooks/rest/webhook",
                                  json={"sender": "s1", "message": f"here: {AMEX}"})
            gw.idle()
            # a card inside a longer question
            gw.sms(f"what do I owe? my card {AMEX}", "SM2")
            gw.idle()
            inbound = gw.messages("in")
            assert len(inbound) == 4 and all(CARD_MASK in m.text for m in inbound)
    finally:
        logging.getLogger().removeHandler(handler)

    # the patient is pointed to the payment link, on every channel
    assert settings.payment_link in resp.json()[0]["text"]
    assert settings.payment_link in " ".join(s["Body"] for s in twilio_api.sent)
    assert settings.payment_link in telegram_api.calls("sendMessage")[0]["text"]

    forms = ["4111111111111111", "4111 1111 1111 1111", AMEX, "1111 1111 1111"]
    stored = _db_bytes(settings.database_url)
    logged = log.getvalue()
    to_rasa = json.dumps(rasa.received)
    sent = json.dumps(twilio_api.sent) + json.dumps(telegram_api.calls("sendMessage"))
    assert logged  # the log did capture the traffic
    for form in forms:
        assert form.encode() not in stored
        assert form not in logged and form not in to_rasa and form not in sent


def test_logs_carry_ids_but_no_phones_texts_or_secrets(settings, twilio_api, rasa):
    log = io.StringIO()
    handler = configure_logging(settings, stream=log)
    try:
        with Gateway(settings) as gw:
            gw.sms("my name is Rosa Diaz and I owe money", "SM1")
            gw.idle()
        logger = logging.getLogger("billbot.test")
        logger.info("sending to %s with token %s", PATIENT_PHONE, AUTH_TOKEN,
                    extra={"text": "Rosa Diaz", "message_id": 7})
        try:
            raise ValueError(f"patient {PATIENT_PHONE} said Rosa Diaz")
        except ValueError:
            logger.exception("boom")
        logger.warning(f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage")
    finally:
        logging.getLogger().removeHandler(handler)
    out = log.getvalue()
    lines = [json.loads(line) for line in out.splitlines()]
    assert any(line.get("message_id") == 7 for line in lines)
    assert any(line.get("exception", {}).get("type") == "ValueError" for line in lines)
    for secret in (PATIENT_PHONE, "5551234567", AUTH_TOKEN, BOT_TOKEN, "Rosa", "owe money"):
        assert secret not in out
