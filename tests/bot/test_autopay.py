# ruff: noqa: F811 - pytest fixtures imported from the support modules are parameters here
"""Autopay of a payment plan over a simulated three months, with the real `stripe` SDK against
the Stripe double: a run killed while Stripe is charging and restarted, a decline and its
recovery on the retry day, a bank asking for authentication (the patient pays the link), each
installment charged once; then a plan that keeps failing turns delinquent, and STOP AUTOPAY."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.escalations.models import Escalation
from billing.payment_plans.models import PaymentPlan, PlanInstallment
from billing.payment_plans.service import create_plan
from billing.payments.autopay import offer_setup, stop_autopay
from billing.payments.config import page_settings
from billing.payments.models import AutopayMandate, InstallmentCharge
from bot.autopay_run import run_autopay
from clinic.settings import ROOT
from tests.bot.payment_support import (
    SMS_KEY,
    add_account,
    balance_of,
    ledger_lines,
    poster,
    sms_bodies,
    stripe_api,  # noqa: F401 - fixture
    with_stripe,
)
from tests.gateway_support import Gateway, rasa, settings, telegram_api, twilio_api  # noqa: F401

MONTHS = [date(2031, 4, 10), date(2031, 5, 10), date(2031, 6, 10)]


def at(day: date, hours: float = 14.0) -> datetime:
    """An instant on a clinic day (14:00 UTC is mid-morning in New York)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


@pytest.fixture
def gw(settings, stripe_api):
    with Gateway(with_stripe(settings, stripe_api)) as g:
        yield g


def _plan_with_autopay(gw, stripe_api, months=MONTHS, monthly=100_00) -> tuple[int, list[int]]:
    pid = add_account(gw.engine, charges=((monthly * len(months), -20),))
    with Session(gw.engine) as s, s.begin():
        plan = create_plan(session=s, patient_id=pid, total=monthly * len(months),
                           installments=[(i + 1, d, monthly) for i, d in enumerate(months)])
        opened = offer_setup(session=s, processor=gw.app.state.processor, plan_id=plan.id,
                             sender_key=SMS_KEY, now=datetime.now(UTC),
                             page=page_settings(gw.settings))
        ref = opened.checkout.session_ref
        installments = [i.id for i in plan.installments]
    assert stripe_api.sessions[ref]["mode"] == "setup"
    resp = stripe_api.post(stripe_api.save_card(ref), poster(gw))
    assert resp.json()["outcome"] == "autopay_on"
    with Session(gw.engine) as s:
        mandate = s.scalars(select(AutopayMandate)).one()
        assert mandate.status == "active" and mandate.method_ref.startswith("pm_")
    return pid, installments


def _run(gw, now: datetime):
    return run_autopay(gw.settings, gw.engine, now)


def _charges(gw, installment_id: int) -> list[tuple[int, str]]:
    with Session(gw.engine) as s:
        return [(c.attempt, c.status) for c in s.scalars(
            select(InstallmentCharge).where(InstallmentCharge.installment_id == installment_id)
            .order_by(InstallmentCharge.attempt))]


def _killed_run(gw, stripe_api, now: datetime) -> None:
    """`billbot autopay` in its own process, killed (SIGKILL) while Stripe is answering the
    charge it has already made."""
    stripe_api.charge_delay_s = 60.0
    s = gw.settings
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": s.database_url,
           "STRIPE_SECRET_KEY": s.stripe_secret_key, "STRIPE_API_BASE": s.stripe_api_base,
           "TWILIO_ACCOUNT_SID": s.twilio_account_sid, "TWILIO_AUTH_TOKEN": s.twilio_auth_token,
           "TWILIO_FROM_NUMBER": s.twilio_from_number,
           "TWILIO_API_BASE_URL": s.twilio_api_base_url}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "autopay", "--now", now.isoformat()],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not any(r.path == "/v1/payment_intents" for r in stripe_api.requests):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the job never called Stripe"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
        stripe_api.charge_delay_s = 0.0


def test_three_months_of_autopay_charge_each_installment_once(gw, stripe_api, twilio_api):
    pid, (first, second, third) = _plan_with_autopay(gw, stripe_api)

    # Month 1: the run dies while Stripe charges; the claim stays, nothing is charged twice.
    _killed_run(gw, stripe_api, at(MONTHS[0]))
    assert _charges(gw, first) == [(1, "charging")]
    assert len(stripe_api.charges_for(first)) == 1 and ledger_lines(gw.engine, pid) == []
    assert _run(gw, at(MONTHS[0], 14.1)).charged == 0  # the claim is not stale yet
    restarted = _run(gw, at(MONTHS[0], 14.5))  # same request, same idempotency key
    assert (restarted.resent, restarted.charged) == (1, 1)
    workers = [threading.Thread(target=_run, args=(gw, at(MONTHS[0], 15))) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(stripe_api.charges_for(first)) == 1 and _charges(gw, first) == [(1, "succeeded")]
    assert [ln.amount_cents for ln in ledger_lines(gw.engine, pid)] == [100_00]
    assert sms_bodies(twilio_api)[-1] == (
        "Payment received: $100.00. Thank you! Your balance is now $200.00.")

    # Month 2: declined; a link to pay it; the retry three days later goes through.
    stripe_api.off_session.append("decline")
    assert _run(gw, at(MONTHS[1])).declined == 1
    declined = sms_bodies(twilio_api)[-1]
    assert declined.startswith("We couldn't charge your card for the plan installment of $100.00.")
    link = declined.rsplit(" ", 1)[1]
    assert stripe_api.session_for_url(link)["amount_total"] == 100_00
    assert _run(gw, at(MONTHS[1] + timedelta(days=2))).charged == 0
    assert _run(gw, at(MONTHS[1] + timedelta(days=3), 15)).charged == 1
    assert _charges(gw, second) == [(1, "declined"), (2, "succeeded")]
    assert len(stripe_api.charges_for(second)) == 1
    assert sms_bodies(twilio_api)[-1].endswith("Your balance is now $100.00.")

    # Month 3: the bank wants the patient to authenticate; the patient pays the link.
    stripe_api.off_session.append("authenticate")
    assert _run(gw, at(MONTHS[2])).action_required == 1
    ask = sms_bodies(twilio_api)[-1]
    assert ask.startswith("Your bank needs you to confirm the plan installment of $100.00.")
    page = stripe_api.session_for_url(ask.rsplit(" ", 1)[1])
    assert page["metadata"]["purpose"] == "installment"
    assert stripe_api.complete(page["id"], poster(gw)).json()["outcome"] == "posted"
    gw.idle()
    assert _run(gw, at(MONTHS[2] + timedelta(days=3), 15)).charged == 0
    assert stripe_api.charges_for(third) == []

    assert [ln.amount_cents for ln in ledger_lines(gw.engine, pid)] == [100_00] * 3
    assert balance_of(gw.engine, pid).due_now == 0
    assert sms_bodies(twilio_api)[-1] == (
        "Payment received: $100.00. Thank you! Your balance is now $0.00.")
    with Session(gw.engine) as s:
        assert s.scalars(select(PaymentPlan.status)).one() == "completed"
        assert set(s.scalars(select(PlanInstallment.status))) == {"paid"}
        assert s.scalars(select(AutopayMandate.status)).one() == "stopped"


def test_a_plan_that_keeps_failing_turns_delinquent_and_a_representative_is_told(
        gw, stripe_api, twilio_api):
    pid, (only,) = _plan_with_autopay(gw, stripe_api, months=[MONTHS[0]])
    stripe_api.off_session.extend(["decline", "authenticate", "decline"])
    day = MONTHS[0]
    reports = [_run(gw, at(day)), _run(gw, at(day + timedelta(days=3), 15)),
               _run(gw, at(day + timedelta(days=10), 16)), _run(gw, at(day + timedelta(days=30)))]
    assert [r.delinquent for r in reports] == [0, 0, 1, 0]
    assert [a for a, _ in _charges(gw, only)] == [1, 2, 3]
    assert stripe_api.charges_for(only) == []
    with Session(gw.engine) as s:
        assert s.scalars(select(PaymentPlan.status)).one() == "delinquent"
        [esc] = s.scalars(select(Escalation)).all()
        assert (esc.reason, esc.patient_id) == ("autopay_failed", pid)
    assert sms_bodies(twilio_api)[-1].startswith("Several payments on your plan didn't go through")
    assert ledger_lines(gw.engine, pid) == []


def test_stopped_autopay_charges_nothing(gw, stripe_api):
    pid, (first, *_) = _plan_with_autopay(gw, stripe_api)
    with Session(gw.engine) as s, s.begin():
        assert stop_autopay(session=s, patient_id=pid, now=datetime.now(UTC)) == 1
    assert _run(gw, at(MONTHS[0])).charged == 0
    assert _charges(gw, first) == [] and stripe_api.charges_for(first) == []
