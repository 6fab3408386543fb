"""Paying by text, end to end: signed Twilio webhooks into the real gateway, the trained model
and the action server (which makes the link at the Stripe double through the real `stripe`
SDK), the patient paying on the hosted page, the double posting Stripe's signed event to the
gateway's /webhooks/stripe, and the receipt by SMS with the new balance to the cent."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from billing.core.money import fmt
from billing.db.models import LedgerEntry
from billing.importer import import_sources, source_from_text
from bot.reminders.reminders_models import ReminderOutbox
from clinic.settings import Settings
from tests.doubles.twilio import TwilioDouble
from tests.e2e.conftest import SESSION_SECRET
from tests.e2e.expected import balance, snapshot, us
from tests.gateway_support import ACCOUNT_SID, AUTH_TOKEN, PUBLIC, Gateway
from tests.stripe_double import WEBHOOK_SECRET

pytestmark = pytest.mark.e2e
JO_PHONE = "+12125550197"
JO = ("A3001", date(1979, 9, 23))
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/c/pay/\w+)")


@pytest.fixture(scope="module")
def gateway(assistant):
    today = assistant.today
    due = (today - timedelta(days=12)).isoformat()
    served = (today - timedelta(days=50)).isoformat()
    with assistant.db() as s:
        import_sources(s, [
            source_from_text("patients.csv", (
                "account_number,first_name,last_name,date_of_birth,phone,email,"
                "telegram_chat_id,timezone,preferred_channel,sms_consent\n"
                f"A3001,Jo,Baker,{JO[1]},{JO_PHONE},,,America/New_York,sms,yes\n")),
            source_from_text("ledger.csv", (
                "account_number,entry_id,posted_date,service_date,type,amount,cpt_code,"
                "description,provider,claim_id,claim_status,method,due_date\n"
                f"A3001,J-1,{served},{served},charge,187.43,99214,Office visit,Dr. Chen,,"
                f"self_pay,,{due}\n")),
        ])
        s.commit()
    with TwilioDouble(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        settings = Settings(
            database_url=assistant.db_url, public_base_url=PUBLIC,
            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
            twilio_from_number="+15550100000", twilio_api_base_url=twilio.url,
            rasa_url=assistant.url.removesuffix("/webhooks/rest/webhook"), rasa_timeout_s=60.0,
            session_secret=SESSION_SECRET, stripe_secret_key=assistant.stripe.secret_key,
            stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_base=assistant.stripe.url,
        )
        with Gateway(settings) as gw:
            gw.twilio = twilio
            yield gw


def _texts(gw) -> list[str]:
    return [p["Body"] for p in gw.twilio.sent if p.get("To") == JO_PHONE]


def _text(gw, body: str) -> str:
    """Send one SMS and return everything billbot texted back."""
    before = len(_texts(gw))
    assert gw.sms(body, f"SM{uuid.uuid4().hex}", phone=JO_PHONE).status_code == 200
    gw.idle(90.0)
    return " ".join(_texts(gw)[before:])


def test_pay_by_text_lands_in_the_ledger_with_a_receipt_and_stops_reminders(gateway, assistant):
    stripe = assistant.stripe
    with assistant.db() as s:
        pid = snapshot(s, JO[0]).patient_id
        now = datetime.now(UTC)
        s.add(ReminderOutbox(patient_id=pid, episode=now.date(), step=15, channel="sms",
                             sender_key=f"sms:{JO_PHONE}", body="reminder", status="pending",
                             attempts=0, not_before=now + timedelta(hours=2), created_at=now,
                             updated_at=now))
        s.commit()
        owed = balance(s, JO[0]).due_now
    assert owed == 187_43

    assert "date of birth" in _text(gateway, "PAY")
    reply = _text(gateway, us(JO[1]))
    match = LINK.search(reply)
    assert match, reply
    assert f"Pay {fmt(owed)} securely here" in reply
    page = stripe.session_for_url(match.group(1))
    assert (page["amount_total"], page["metadata"]["account"], page["mode"]) == (
        owed, JO[0], "payment")
    too_much = _text(gateway, "pay 5000 now")
    assert too_much == (f"You owe {fmt(owed)} right now, so I can't take $5,000.00. Send PAY "
                        f"to pay {fmt(owed)}, or a smaller amount like \"pay 20\".")
    assert len(stripe.sessions) == 1

    resp = stripe.complete(page["id"], lambda body, headers: gateway.client.post(
        "/webhooks/stripe", content=body, headers=headers))
    assert resp.status_code == 200 and resp.json()["outcome"] == "posted"
    gateway.idle()
    with assistant.db() as s:
        lines = s.scalars(select(LedgerEntry).where(
            LedgerEntry.patient_id == pid, LedgerEntry.entry_id.startswith("STRIPE-"))).all()
        assert [(ln.amount_cents, ln.method) for ln in lines] == [(owed, "card")]
        after = balance(s, JO[0]).due_now
        row = s.scalars(select(ReminderOutbox).where(ReminderOutbox.patient_id == pid)).one()
        assert (row.status, row.reason) == ("cancelled", "paid")
    assert after == 0
    assert _texts(gateway)[-1] == (
        f"Payment received: {fmt(owed)}. Thank you! Your balance is now {fmt(after)}.")

    # the same event again changes nothing
    assert stripe.post(stripe.events[-1], lambda body, headers: gateway.client.post(
        "/webhooks/stripe", content=body, headers=headers)).json()["outcome"] == "duplicate"
    with assistant.db() as s:
        assert balance(s, JO[0]).due_now == 0
