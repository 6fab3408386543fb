# ruff: noqa: F811 - pytest fixtures imported from the support modules are parameters here
"""Refunds executed through Stripe from the console, reflected in the ledger when Stripe's
refund event arrives; and `billbot report payments` reconciling Stripe against the ledger."""
from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.db.models import LedgerEntry
from billing.payments.models import ProcessorRefund
from billing.refunds.models import Refund
from billing.refunds.service import request_refund
from bot.cli import main
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
from tests.console_support import add_escalation, add_user, csrf_of, log_in
from tests.gateway_support import Gateway, rasa, settings, telegram_api, twilio_api  # noqa: F401
from tests.stripe_double import SECRET_KEY

TODAY = date.today()  # noqa: DTZ011 - the gateway's clock is the real one


@pytest.fixture
def gw(settings, stripe_api):
    with Gateway(with_stripe(settings, stripe_api)) as g:
        add_user(g.engine, "rita")
        yield g


def _approve(gw, patient_id: int, refund_id: str):
    esc = add_escalation(gw.engine, sender_key=SMS_KEY, channel="sms", patient_id=patient_id,
                         status="assigned", assigned_to="rita")
    console = TestClient(gw.app, base_url="https://testserver")  # its cookies are Secure
    log_in(console, "rita")
    csrf = csrf_of(console.get(f"/console/escalations/{esc}").text)
    return console.post(f"/console/escalations/{esc}/refunds/{refund_id}",
                          data={"csrf_token": csrf, "decision": "approve"})


def _overpaid_through_stripe(gw, stripe_api) -> int:
    """$80.00 owed, paid through a link, then a $25.00 adjustment leaves a $25.00 credit."""
    pid = add_account(gw.engine, charges=((80_00, -2),))
    ref, _ = open_link(gw, pid)
    stripe_api.complete(ref, poster(gw))
    with Session(gw.engine) as s, s.begin():
        s.add(LedgerEntry(entry_id="ADJ-1", patient_id=pid, type="patient_adjustment",
                          amount_cents=25_00, posted_date=TODAY, method=None))
    assert balance_of(gw.engine, pid).credit == 25_00
    return pid


def test_an_approved_refund_is_executed_and_lands_when_stripe_says_so(gw, stripe_api,
                                                                     twilio_api):
    pid = _overpaid_through_stripe(gw, stripe_api)
    with Session(gw.engine) as s, s.begin():
        refund_id = request_refund(session=s, patient_id=pid, amount=25_00, today=TODAY).refund_id
    resp = _approve(gw, pid, refund_id)
    assert resp.status_code == 200 and "Refund request decided." in resp.text
    [sent] = stripe_api.refunds.values()
    payment = ledger_lines(gw.engine, pid)[0].entry_id.removeprefix("STRIPE-")
    assert (sent["payment_intent"], sent["amount"], sent["status"]) == (payment, 25_00, "pending")
    with Session(gw.engine) as s:
        assert s.scalars(select(Refund.status).where(Refund.refund_id == refund_id)).one() == "approved"
    assert [ln.type for ln in ledger_lines(gw.engine, pid)] == ["patient_payment"]

    event = stripe_api.settle_refund(sent["id"])
    assert stripe_api.post(event, poster(gw)).json()["outcome"] == "refund_issued"
    assert stripe_api.post(event, poster(gw)).json()["outcome"] == "duplicate"
    late = stripe_api.event("refund.updated", {**sent, "status": "pending"})
    assert stripe_api.post(late, poster(gw)).json()["outcome"] == "unchanged"
    gw.idle()
    lines = ledger_lines(gw.engine, pid)
    assert [(ln.type, ln.amount_cents, ln.entry_id) for ln in lines][1:] == [
        ("refund", 25_00, f"STRIPE-{sent['id']}")]
    assert balance_of(gw.engine, pid).credit == 0
    with Session(gw.engine) as s:
        refund = s.scalars(select(Refund).where(Refund.refund_id == refund_id)).one()
        assert (refund.status, refund.method) == ("issued", "card")
        assert s.scalars(select(ProcessorRefund.status)).one() == "succeeded"
    assert sms_bodies(twilio_api)[-1].startswith("Your refund of $25.00 was sent back to your card")


def test_a_refund_of_a_payment_made_elsewhere_stays_a_representatives_task(gw, stripe_api):
    pid = add_account(gw.engine, charges=((50_00, -2),), payments=((70_00, "check", "CHK-1"),))
    with Session(gw.engine) as s, s.begin():
        refund_id = request_refund(session=s, patient_id=pid, amount=20_00, today=TODAY).refund_id
    assert _approve(gw, pid, refund_id).status_code == 200
    assert stripe_api.refunds == {}
    with Session(gw.engine) as s:
        assert s.scalars(select(Refund.status).where(Refund.refund_id == refund_id)).one() == "approved"


def test_reconciliation_flags_a_stripe_payment_with_no_ledger_line(gw, stripe_api, monkeypatch,
                                                                  capsys):
    pid = add_account(gw.engine, charges=((60_00, -2),))
    posted_ref, _ = open_link(gw, pid, amount=20_00)
    stripe_api.complete(posted_ref, poster(gw))
    lost_ref, _ = open_link(gw, pid, amount=15_00)
    stripe_api.pay(lost_ref)  # paid at Stripe, but the event never reached billbot
    for name, value in {"DATABASE_URL": gw.settings.database_url,
                        "STRIPE_SECRET_KEY": SECRET_KEY,
                        "STRIPE_API_BASE": stripe_api.url}.items():
        monkeypatch.setenv(name, value)
    day = TODAY.isoformat()
    code = main(["report", "payments", "--from", day, "--to", day])
    out = capsys.readouterr().out
    posted = stripe_api.sessions[posted_ref]["payment_intent"]
    lost = stripe_api.sessions[lost_ref]["payment_intent"]
    [posted_row] = [ln for ln in out.splitlines() if posted in ln]
    [lost_row] = [ln for ln in out.splitlines() if lost in ln]
    assert "A7001" in posted_row and "$20.00" in posted_row and posted_row.endswith("ok")
    assert "$0.88" in posted_row  # the fee: 2.9% + 30c of $20.00
    assert "$15.00" in lost_row and lost_row.endswith("FLAG: no ledger line")
    assert code == 1 and "1 flagged" in out


def test_reconciliation_flags_a_ledger_line_stripe_does_not_have(gw, stripe_api, monkeypatch,
                                                                capsys):
    pid = add_account(gw.engine, charges=((60_00, -2),))
    with Session(gw.engine) as s, s.begin():
        s.add(LedgerEntry(entry_id="STRIPE-pi_test_made_up", patient_id=pid,
                          type="patient_payment", amount_cents=9_99, posted_date=TODAY,
                          method="card"))
    monkeypatch.setenv("DATABASE_URL", gw.settings.database_url)
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", stripe_api.url)
    assert main(["report", "payments", "--from", TODAY.isoformat(),
                 "--to", TODAY.isoformat()]) == 1
    [row] = [ln for ln in capsys.readouterr().out.splitlines() if "pi_test_made_up" in ln]
    assert row.endswith("FLAG: no processor transaction") and "$9.99" in row
