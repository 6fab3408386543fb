"""What the payment tests share: a gateway with SMS (Twilio double), a Rasa double and
Stripe (the real SDK against the Stripe double), an account with a balance, and a way to
post the double's signed events to the gateway's webhook."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.core.sender_key import sender_key
from billing.db.models import LedgerEntry, Patient
from billing.payments.checkout import request_payment
from billing.payments.config import page_settings
from tests.gateway_support import PATIENT_PHONE
from tests.stripe_double import SECRET_KEY, WEBHOOK_SECRET, StripeDouble

SMS_KEY = sender_key("sms", PATIENT_PHONE)


@pytest.fixture
def stripe_api():
    with StripeDouble() as d:
        yield d


def with_stripe(settings, stripe_api):
    return settings.replace(stripe_secret_key=SECRET_KEY, stripe_webhook_secret=WEBHOOK_SECRET,
                            stripe_api_base=stripe_api.url)


def add_account(engine, *, account="A7001", phone=PATIENT_PHONE, charges=((123_45, -10),),
                payments=()) -> int:
    """A patient with self-pay charges (amount, due in days from today: negative is past due)
    and payments (amount, method, entry id)."""
    today = date.today()  # noqa: DTZ011 - the gateway's clock is the real one
    with Session(engine) as s, s.begin():
        p = Patient(account_number=account, first_name="Dana", last_name="Reyes",
                    date_of_birth=date(1980, 1, 2), phone=phone, sms_consent=True,
                    timezone="America/New_York")
        s.add(p)
        s.flush()
        for i, (amount, due_in) in enumerate(charges):
            s.add(LedgerEntry(entry_id=f"{account}-C{i}", patient_id=p.id, type="charge",
                              amount_cents=amount, posted_date=today - timedelta(days=40),
                              service_date=today - timedelta(days=40), cpt_code="99213",
                              description="Office visit", claim_status="self_pay",
                              due_date=today + timedelta(days=due_in)))
        for amount, method, entry_id in payments:
            s.add(LedgerEntry(entry_id=entry_id, patient_id=p.id, type="patient_payment",
                              amount_cents=amount, posted_date=today - timedelta(days=5),
                              method=method))
        return p.id


def balance_of(engine, patient_id: int):
    with Session(engine) as s:
        return compute_balance(load_items(s, patient_id))


def ledger_lines(engine, patient_id: int, prefix: str = "STRIPE-") -> list[LedgerEntry]:
    with Session(engine) as s:
        return list(s.scalars(select(LedgerEntry).where(
            LedgerEntry.patient_id == patient_id, LedgerEntry.entry_id.startswith(prefix))
            .order_by(LedgerEntry.id)))


def open_link(gw, patient_id: int, amount=None, installment=False, key: str = SMS_KEY):
    """A payment link as the pay action asks for it: the stored checkout's processor id."""
    with Session(gw.engine) as s, s.begin():
        opened = request_payment(session=s, processor=gw.app.state.processor,
                                 patient_id=patient_id, amount=amount, installment=installment,
                                 sender_key=key, now=datetime.now(UTC),
                                 page=page_settings(gw.settings))
        return opened.checkout.session_ref, opened.url


def poster(gw):
    """Post a body to the gateway's Stripe webhook as Stripe would."""
    return lambda body, headers: gw.client.post("/webhooks/stripe", content=body,
                                                headers=headers)


def sms_bodies(twilio_api) -> list[str]:
    return [m.get("Body", "") for m in twilio_api.sent]
