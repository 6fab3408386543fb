"""The pay action's two modes: without STRIPE_SECRET_KEY the static PAYMENT_LINK as before;
with it, a link for exactly what the message asks (the real SDK against the Stripe double)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.base import Turn
from actions.payments import payment_replies
from billing.accounts import load_snapshot
from billing.payments.models import Checkout
from clinic.settings import Settings
from tests.dialogue_factories import add_entry, add_patient
from tests.stripe_double import SECRET_KEY, StripeDouble

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def _turn(session: Session, settings: Settings, text: str) -> Turn:
    tracker = Tracker("sms:+15551230000", {}, {"text": text, "intent": {"name": "make_payment"}},
                      [], False, None, None, "action_listen")
    return Turn(CollectingDispatcher(), tracker, session, settings, NOW)


@pytest.fixture
def account(engine):
    with Session(engine) as s, s.begin():
        p = add_patient(s, phone="+15551230000")
        add_entry(s, p, "charge", 64_10, claim_status="self_pay", due_date=date(2026, 2, 1))
        return p.id


def _replies(engine, settings, text, patient_id):
    with Session(engine) as s, s.begin():
        return payment_replies(_turn(s, settings, text), load_snapshot(s, patient_id))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_without_a_stripe_key_the_static_link_is_sent(engine, account):
    settings = Settings(database_url=str(engine.url))
    replies = _replies(engine, settings, "PAY", account)
    assert replies[0] == f"You owe $64.10 now. Pay securely online: {settings.payment_link}"
    with Session(engine) as s:
        assert s.query(Checkout).count() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("text", "asked", "reply_start"), [
    ("PAY", 64_10, "Pay $64.10 securely here: "),
    ("pay 40 now", 40_00, "Pay $40.00 securely here: "),
    ("pay $12.34 please", 12_34, "Pay $12.34 securely here: "),
    ("pay 70", None, "You owe $64.10 right now, so I can't take $70.00."),
    ("pay 0", None, "That amount isn't one I can take."),
    ("pay -5", None, "That amount isn't one I can take."),
    ("pay the next installment", None, "You have no plan installment to pay."),
])
def test_with_stripe_the_link_is_for_what_was_asked(engine, account, text, asked, reply_start):
    with StripeDouble() as stripe:
        settings = Settings(database_url=str(engine.url), stripe_secret_key=SECRET_KEY,
                            stripe_api_base=stripe.url)
        [reply] = _replies(engine, settings, text, account)
        assert reply.startswith(reply_start), reply
        if asked is None:
            assert stripe.sessions == {}
        else:
            [page] = stripe.sessions.values()
            assert page["amount_total"] == asked and page["url"] in reply
