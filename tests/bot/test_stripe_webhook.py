# ruff: noqa: F811 - pytest fixtures imported from the support modules are parameters here
"""Payments land in the ledger by themselves: the real gateway's /webhooks/stripe, the real
`stripe` SDK against the Stripe double, events signed the way Stripe signs them. Every amount
stated to the patient is checked to the cent against what the database then holds."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.money import fmt
from billing.db.models import AuditLog
from billing.escalations.models import Escalation
from billing.payments.checkout import PaymentRefused, request_payment
from billing.payments.config import page_settings
from billing.payments.enums import CheckoutStatus
from billing.payments.models import Checkout, ProcessorEventRecord
from bot.reminders.reminders_models import ReminderOutbox
from tests.bot.payment_support import (
    SMS_KEY,
    add_account,
    balance_of,
    ledger_lines,
    open_link,
    poster,
    sms_bodies,
    stripe_api,  # noqa: F401 - fixture
    with_stripe,
)
from tests.gateway_support import Gateway, rasa, settings, telegram_api, twilio_api  # noqa: F401
from tests.stripe_double import signature


@pytest.fixture
def gw(settings, stripe_api):
    with Gateway(with_stripe(settings, stripe_api)) as g:
        yield g


def _pending_reminder(engine, patient_id: int) -> int:
    now = datetime.now(UTC)
    with Session(engine) as s, s.begin():
        row = ReminderOutbox(patient_id=patient_id, episode=now.date(), step=1, channel="sms",
                             sender_key=SMS_KEY, body="reminder", status="pending",
                             attempts=0, not_before=now + timedelta(hours=1), created_at=now,
                             updated_at=now)
        s.add(row)
        s.flush()
        return row.id


def _reminder_status(engine, row_id: int) -> tuple[str, str | None]:
    with Session(engine) as s:
        row = s.get(ReminderOutbox, row_id)
        return row.status, row.reason


def test_a_paid_link_posts_the_payment_sends_a_receipt_and_stops_reminders(gw, stripe_api,
                                                                          twilio_api):
    pid = add_account(gw.engine, charges=((123_45, -10),))
    reminder = _pending_reminder(gw.engine, pid)
    ref, url = open_link(gw, pid, amount=40_00)
    session = stripe_api.sessions[ref]
    assert url == session["url"] and session["amount_total"] == 40_00
    assert session["metadata"]["account"] == "A7001"
    assert session["metadata"]["purpose"] == "partial"
    assert session["payment_intent_data"]["statement_descriptor_suffix"] == "Riverside Family Clini"
    assert 0 < session["expires_at"] - time.time() <= 60 * 60

    resp = stripe_api.complete(ref, poster(gw))
    assert resp.status_code == 200 and resp.json()["outcome"] == "posted"
    gw.idle()
    [line] = ledger_lines(gw.engine, pid)
    intent = stripe_api.sessions[ref]["payment_intent"]
    assert (line.entry_id, line.amount_cents, line.method, line.type) == (
        f"STRIPE-{intent}", 40_00, "card", "patient_payment")
    balance = balance_of(gw.engine, pid)
    assert balance.due_now == 83_45
    assert sms_bodies(twilio_api)[-1] == (
        f"Payment received: $40.00. Thank you! Your balance is now {fmt(balance.due_now)}.")
    assert _reminder_status(gw.engine, reminder) == ("pending", None)  # still past due

    ref2, _ = open_link(gw, pid)  # PAY: all that is due now
    assert stripe_api.sessions[ref2]["amount_total"] == 83_45
    stripe_api.complete(ref2, poster(gw))
    gw.idle()
    assert balance_of(gw.engine, pid).due_now == 0
    assert sms_bodies(twilio_api)[-1] == "Payment received: $83.45. Thank you! Your balance is now $0.00."
    assert _reminder_status(gw.engine, reminder) == ("cancelled", "paid")
    with Session(gw.engine) as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "payment_received")).all()
        assert [a.detail["amount_cents"] for a in audits] == [40_00, 83_45]
        assert all(a.actor == "stripe" for a in audits)


def test_replayed_and_out_of_order_events_post_nothing_twice(gw, stripe_api, twilio_api):
    pid = add_account(gw.engine, charges=((200_00, -3),))
    ref, _ = open_link(gw, pid, amount=50_00)
    event = stripe_api.pay(ref)
    first = stripe_api.post(event, poster(gw))
    again = stripe_api.post(event, poster(gw))  # Stripe retries with the same event id
    resent = stripe_api.post(stripe_api.event("checkout.session.completed",
                                              event["data"]["object"]), poster(gw))
    expired = stripe_api.post(stripe_api.expire(ref), poster(gw))  # late, after payment
    gw.idle()
    assert [r.json()["outcome"] for r in (first, again, resent, expired)] == [
        "posted", "duplicate", "unchanged", "unchanged"]
    assert [line.amount_cents for line in ledger_lines(gw.engine, pid)] == [50_00]
    assert balance_of(gw.engine, pid).due_now == 150_00
    assert len([b for b in sms_bodies(twilio_api) if b.startswith("Payment received")]) == 1
    with Session(gw.engine) as s:
        assert s.scalars(select(Checkout.status)).one() == CheckoutStatus.COMPLETED


def test_an_unpaid_link_that_expires_is_closed_and_posts_nothing(gw, stripe_api):
    pid = add_account(gw.engine)
    ref, _ = open_link(gw, pid)
    assert stripe_api.post(stripe_api.expire(ref), poster(gw)).json()["outcome"] == "expired"
    assert ledger_lines(gw.engine, pid) == []


@pytest.mark.parametrize("forgery", ["wrong secret", "no signature", "stale", "tampered",
                                     "garbage header"])
def test_a_forged_or_stale_event_is_refused_and_stores_nothing(gw, stripe_api, forgery):
    pid = add_account(gw.engine)
    ref, _ = open_link(gw, pid, amount=10_00)
    event = stripe_api.pay(ref)
    if forgery == "wrong secret":
        resp = stripe_api.post(event, poster(gw), secret="whsec_someone_else")
    elif forgery == "no signature":
        resp = stripe_api.post(event, poster(gw), header=None)
    elif forgery == "stale":
        resp = stripe_api.post(event, poster(gw), timestamp=int(time.time()) - 3600)
    elif forgery == "garbage header":
        resp = stripe_api.post(event, poster(gw), header="t=abc,v1=00")
    else:  # signed, then the amount changed on the way
        body = json.dumps(event).encode()
        header = signature(body)
        body = body.replace(b'"amount_total": 1000', b'"amount_total": 1')
        resp = gw.client.post("/webhooks/stripe", content=body,
                              headers={"Stripe-Signature": header})
    assert resp.status_code == 400
    assert ledger_lines(gw.engine, pid) == []
    with Session(gw.engine) as s:
        assert s.scalars(select(ProcessorEventRecord)).all() == []
        assert s.scalars(select(Checkout.status)).one() == CheckoutStatus.OPEN


def test_a_payment_that_does_not_match_its_link_goes_to_a_representative(gw, stripe_api,
                                                                       twilio_api):
    pid = add_account(gw.engine, charges=((90_00, -5),))
    ref, _ = open_link(gw, pid, amount=30_00)
    resp = stripe_api.complete(ref, poster(gw), amount=3_00)
    ref2, _ = open_link(gw, pid, amount=30_00)
    other = stripe_api.complete(ref2, poster(gw), metadata={"account": "A9999",
                                                            "billbot_ref": "x"})
    gw.idle()
    assert resp.json()["outcome"] == other.json()["outcome"] == "review"
    assert ledger_lines(gw.engine, pid) == []
    assert balance_of(gw.engine, pid).due_now == 90_00
    with Session(gw.engine) as s:
        [esc] = s.scalars(select(Escalation)).all()
        assert (esc.reason, esc.patient_id, esc.sender_key) == ("payment_review", pid, SMS_KEY)
        assert {c.status for c in s.scalars(select(Checkout))} == {CheckoutStatus.REVIEW}
    assert sms_bodies(twilio_api)[-1].startswith("We received a payment that we need to check")


@pytest.mark.parametrize(("amount", "kind"), [(123_46, "over_owed"), (0, "not_positive"),
                                              (-5_00, "not_positive")])
def test_an_amount_above_what_is_owed_zero_or_negative_makes_no_link(gw, stripe_api, amount,
                                                                     kind):
    pid = add_account(gw.engine, charges=((123_45, -10),))
    with Session(gw.engine) as s, pytest.raises(PaymentRefused) as refused:
        request_payment(session=s, processor=gw.app.state.processor, patient_id=pid,
                        amount=amount, installment=False, sender_key=SMS_KEY,
                        now=datetime.now(UTC), page=page_settings(gw.settings))
    assert refused.value.kind == kind
    assert stripe_api.sessions == {}
    with Session(gw.engine) as s:
        assert s.scalars(select(Checkout)).all() == []


def test_without_a_webhook_secret_every_event_is_refused(settings, stripe_api):
    with Gateway(with_stripe(settings, stripe_api).replace(stripe_webhook_secret="")) as g:
        pid = add_account(g.engine)
        ref, _ = open_link(g, pid)
        assert stripe_api.complete(ref, poster(g)).status_code == 400
        assert ledger_lines(g.engine, pid) == []


def test_the_return_pages_say_what_happened(gw):
    assert "receipt arrives by message" in gw.client.get("/payments/done").text
    assert "No payment was made" in gw.client.get("/payments/cancelled").text
