"""Web chat: the REST webhook, sender namespacing, the chat page and statement links."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from billing.core.clock import FixedClock
from billing.db.models import LedgerEntry, Patient
from clinic import wording
from clinic.statement_links import StatementLinksDisabled, read_token, statement_url
from tests.environment import needs
from tests.gateway_support import PUBLIC, Gateway, without

pytest_plugins = ["tests.gateway_support"]  # the doubles and settings fixtures

NOW = datetime(2025, 6, 1, 15, 0, tzinfo=UTC)


def test_rest_webhook_answers_in_rasas_format(settings, rasa):
    with Gateway(settings) as gw:
        resp = gw.client.post("/webhooks/rest/webhook",
                              json={"sender": "3f2b9c1e-aa", "message": "hi there"})
        assert resp.status_code == 200
        inbound, outbound = gw.messages()
        assert resp.json() == [{"recipient_id": "3f2b9c1e-aa", "text": "Got it: hi there",
                                "id": outbound.id}]
        assert (inbound.sender_key, inbound.status) == ("web:3f2b9c1e-aa", "answered")
        assert (outbound.status, outbound.text) == ("delivered", "Got it: hi there")
    assert rasa.received[0]["sender"] == "web:3f2b9c1e-aa"
    meta = rasa.received[0]["metadata"]
    assert {k: meta[k] for k in ("channel", "channel_user")} == {"channel": "web",
                                                                "channel_user": "3f2b9c1e-aa"}
    assert set(meta) == {"channel", "channel_user", "client_ref", "lang"}  # address hashed


@pytest.mark.parametrize("claimed", ["sms:+15551234567", "tg:424242", "web:../../x", " sms:+1 "])
def test_a_web_client_cannot_claim_another_channels_identity(settings, rasa, claimed):
    with Gateway(settings) as gw:
        gw.client.post("/webhooks/rest/webhook", json={"sender": claimed, "message": "hello"})
        [inbound] = gw.messages("in")
    sender = rasa.received[0]["sender"]
    assert sender == inbound.sender_key
    assert sender.startswith("web:") and ":" not in sender[4:] and "+" not in sender


@pytest.mark.parametrize("body,error", [
    ({"sender": "abc"}, '"message"'),
    ({"message": "hi"}, '"sender"'),
    ({"sender": "%%%", "message": "hi"}, '"sender"'),
    ({"sender": "abc", "message": "x" * 2001}, "longer than"),
    (["not", "an", "object"], "JSON object"),
])
def test_bad_web_requests_get_a_clear_400_and_change_nothing(settings, rasa, body, error):
    with Gateway(settings) as gw:
        resp = gw.client.post("/webhooks/rest/webhook", json=body)
        assert resp.status_code == 400 and error in resp.json()["error"]
        assert gw.messages() == []
    assert rasa.received == []


def test_the_chat_page_is_served_with_its_script(settings):
    with Gateway(settings) as gw:
        page = gw.client.get("/chat")
        assert page.status_code == 200
        assert settings.clinic_name in page.text and "/static/chat.js" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        js = gw.client.get("/static/chat.js")
        assert js.status_code == 200 and "/webhooks/rest/webhook" in js.text
        assert ".innerHTML" not in js.text


def test_the_chat_session_id_comes_from_the_browsers_cryptographic_generator(settings):
    with Gateway(settings) as gw:
        js = gw.client.get("/static/chat.js").text
    assert "crypto.randomUUID()" in js and "crypto.getRandomValues(" in js
    assert "Math.random" not in js and "Date.now" not in js
    assert "/webhooks/rest/messages?sender=" in js


# -- replies sent after the page's own request (a representative's) -----------------------

SESSION = "0b9e3c52-7a41-4f0e-9d8a-2c6f1e5b7a90"  # as chat.js makes them
OTHER = "5d1f7c20-9e3b-4a6d-8f21-b7c0e4a9d312"


def _poll(gw, sender=SESSION, after=0):
    return gw.client.get("/webhooks/rest/messages", params={"sender": sender, "after": after})


def test_a_representatives_reply_reaches_the_web_page_once(settings, rasa):
    with Gateway(settings) as gw:
        posted = gw.client.post("/webhooks/rest/webhook",
                                json={"sender": SESSION, "message": "I need a person"}).json()
        [bot_reply] = posted
        # Nothing new since the POST's replies: the poll does not show them again.
        assert _poll(gw, after=bot_reply["id"]).json() == []
        sent = gw.client.portal.call(gw.app.state.pipeline.deliver, f"web:{SESSION}",
                                     ["Hi, this is Rita from billing."])
        assert list(sent) == ["Hi, this is Rita from billing."]
        resp = _poll(gw, after=bot_reply["id"])
        assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
        assert resp.json() == [{"id": sent.ids[0], "text": "Hi, this is Rita from billing."}]
        assert _poll(gw, after=sent.ids[0]).json() == []
        # From the start the poll lists the bot's reply under the id the POST gave it, so a
        # page that shows each id once never shows it twice.
        assert _poll(gw, after=0).json() == [
            {"id": bot_reply["id"], "text": bot_reply["text"]},
            {"id": sent.ids[0], "text": "Hi, this is Rita from billing."},
        ]


def test_the_poll_never_returns_inbound_texts_or_other_senders_messages(settings, rasa):
    with Gateway(settings) as gw:
        gw.client.post("/webhooks/rest/webhook", json={"sender": OTHER, "message": "my secret"})
        gw.client.portal.call(gw.app.state.pipeline.deliver, f"web:{OTHER}", ["for other"])
        gw.sms("hello", "SM" + "1" * 32)
        gw.idle()
        gw.client.post("/webhooks/rest/webhook", json={"sender": SESSION, "message": "mine"})
        texts = [m["text"] for m in _poll(gw).json()]
        assert texts == ["Got it: mine"]
        # A prefix or pattern of another session is just another (empty) session.
        for probe in (OTHER[:32], OTHER.upper(), OTHER + "x"):
            assert _poll(gw, sender=probe).json() == []
        everything = [m.text for m in gw.messages()]
        assert "my secret" in everything and "for other" in everything


@pytest.mark.parametrize("query,error", [
    ({}, '"sender" is required'),
    ({"sender": "abc"}, "random session id"),  # guessable: may post, never read back
    ({"sender": "sms:+15551234567" + "0" * 20}, "random session id"),
    ({"sender": SESSION, "after": "-1"}, '"after"'),
    ({"sender": SESSION, "after": "1.5"}, '"after"'),
    ({"sender": SESSION, "after": "9" * 40}, '"after"'),
])
def test_a_bad_poll_gets_a_clear_400(settings, query, error):
    with Gateway(settings) as gw:
        resp = gw.client.get("/webhooks/rest/messages", params=query)
    assert resp.status_code == 400 and error in resp.json()["error"]


# -- statement links ---------------------------------------------------------------------

def _patient_with_a_visit(engine) -> int:
    with Session(engine) as s, s.begin():
        p = Patient(account_number="A2000", first_name="Rosa", last_name="Diaz",
                    date_of_birth=date(1975, 5, 5), phone="+15550001111")
        s.add(p)
        s.flush()
        s.add_all([
            LedgerEntry(entry_id="C1", patient_id=p.id, type="charge", amount_cents=25000,
                        posted_date=date(2025, 3, 3), service_date=date(2025, 3, 3),
                        cpt_code="99213", description="Office visit", provider="Dr. Rivera",
                        claim_id="CL1", claim_status="adjudicated", due_date=date(2025, 6, 30)),
            LedgerEntry(entry_id="I1", patient_id=p.id, type="insurance_payment",
                        amount_cents=15000, posted_date=date(2025, 4, 1), claim_id="CL1"),
            LedgerEntry(entry_id="P1", patient_id=p.id, type="patient_payment",
                        amount_cents=2500, posted_date=date(2025, 4, 10), claim_id="CL1",
                        method="card"),
        ])
        return p.id


def test_a_statement_link_shows_the_itemised_statement(settings):
    with Gateway(settings, clock=FixedClock(NOW)) as gw:
        pid = _patient_with_a_visit(gw.engine)
        url = statement_url(settings, pid, NOW)
        assert url.startswith(PUBLIC + "/statements/")
        page = gw.client.get(url.removeprefix(PUBLIC))
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        for text in ("Rosa", "A2000", "Office visit (99213)", "$250.00", "$150.00", "$25.00",
                     "$75.00"):
            assert text in page.text
        assert "Diaz" not in page.text and "1975" not in page.text


def test_a_tampered_or_expired_statement_link_discloses_nothing(settings):
    with Gateway(settings, clock=FixedClock(NOW)) as gw:
        pid = _patient_with_a_visit(gw.engine)
        token = statement_url(settings, pid, NOW).rsplit("/", 1)[1]
        sig = token.split(".")[1]
        forged = statement_url(settings, pid + 1, NOW).rsplit("/", 1)[1].split(".")[0] + "." + sig
        old = statement_url(settings, pid, NOW - timedelta(days=2)).rsplit("/", 1)[1]
        other_key = statement_url(without(settings, session_secret="other"), pid, NOW)
        non_ascii = token.split(".")[0] + ".é" + sig[1:]  # found by the fuzzer: was a 500
        for bad in (forged, old, token[:-2], "x", other_key.rsplit("/", 1)[1], non_ascii):
            resp = gw.client.get(f"/statements/{bad}")
            assert resp.status_code == 404 and "Rosa" not in resp.text


def test_statement_links_need_a_secret(settings):
    with pytest.raises(StatementLinksDisabled):
        statement_url(without(settings, session_secret=""), 1, NOW)
    token = statement_url(settings, 1, NOW).rsplit("/", 1)[1]
    assert read_token(settings, token, NOW) == 1
    assert read_token(without(settings, session_secret=""), token, NOW) is None
    ttl = timedelta(minutes=settings.statement_link_ttl_minutes)
    assert read_token(settings, token, NOW + ttl) is None


@pytest.mark.browser
def test_screenshot_of_the_chat_page(settings, tmp_path):
    from scripts.screenshot_webchat import chromium_path, take_screenshot
    needs(chromium_path() is not None, "chromium is not installed")
    out = tmp_path / "webchat.png"
    take_screenshot(settings, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_a_spanish_patients_statement_page_is_in_spanish(settings):
    with Gateway(settings, clock=FixedClock(NOW)) as gw:
        pid = _patient_with_a_visit(gw.engine)
        with Session(gw.engine) as s, s.begin():
            s.get(Patient, pid).language = "es"
        page = gw.client.get(statement_url(settings, pid, NOW).removeprefix(PUBLIC)).text
        assert '<html lang="es">' in page
        assert wording.text("page.statement.due_now", "es") in page
        assert "30 de junio de 2025" in page  # the visit's due date, in Spanish words
        assert "el cargo fue de $250.00" in page  # the explanation, in Spanish
