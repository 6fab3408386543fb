"""What a representative does from the console, through its real pages and forms: reply,
note, return to bot, refund decisions, insurance changes, dispute adjustments, payment plans.
Every account action writes the audit log; a refused one changes nothing."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.db.models import AuditLog, ChargemasterItem, LedgerEntry
from billing.disputes.models import Dispute
from billing.disputes.service import open_dispute
from billing.escalations.models import Escalation
from billing.insurance_changes.models import InsuranceChange
from billing.insurance_changes.service import record_insurance_change
from billing.payment_plans.models import PaymentPlan
from billing.refunds.models import Refund
from billing.refunds.service import request_refund
from bot import message_store as store
from bot.channels.base import SendResult
from bot.channels.registry import Channels
from bot.channels.web import WebChannel
from bot.console import dashboard
from bot.console.console_models import ConsoleReply
from bot.messaging_models import Message
from tests.console_support import NOW, add_escalation, add_user, console_app, log_in
from tests.dialogue_factories import add_entry, add_patient

TODAY = date(2026, 3, 4)


def _account(engine, *, credit: bool = False) -> tuple[int, dict]:
    """A patient owing $50.00 on claim C1 ($200 charge, $120 paid and $30 adjusted by the
    insurer); with credit=True they also paid $80.00, leaving a $30.00 credit."""
    with Session(engine) as s, s.begin():
        p = add_patient(s)
        charge = add_entry(s, p, "charge", 20000, claim_id="C1", claim_status="adjudicated",
                           service_date=date(2026, 1, 5), description="Office visit",
                           cpt_code="99213", due_date=date(2026, 2, 5))
        add_entry(s, p, "insurance_payment", 12000, claim_id="C1")
        add_entry(s, p, "insurance_adjustment", 3000, claim_id="C1")
        if credit:
            add_entry(s, p, "patient_payment", 8000, claim_id="C1", method="card")
        return p.id, {"charge": charge.entry_id}


def _audit(engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)))


@pytest.fixture
def rep(engine):
    add_user(engine, "rita")
    add_user(engine, "otto")
    with TestClient(console_app(engine)) as c:
        c.csrf = log_in(c, "rita")
        yield c


def _held(engine, patient_id, sender_key="web:chat-1") -> int:
    return add_escalation(engine, sender_key=sender_key, patient_id=patient_id,
                          status="assigned", assigned_to="rita")


def test_reply_goes_out_on_the_patients_channel_and_into_the_transcript(rep, engine):
    pid, _ = _account(engine)
    esc_id = _held(engine, pid)
    store.record_inbound(engine, channel="web", sender_key="web:chat-1", text="Is anyone there?",
                         external_id=None, status="for_representative", now=NOW)
    resp = rep.post(f"/console/escalations/{esc_id}/reply",
                    data={"csrf_token": rep.csrf, "text": "Hi, this is Rita from billing."})
    assert resp.status_code == 200 and "Reply sent." in resp.text
    assert "Is anyone there?" in resp.text and "Hi, this is Rita from billing." in resp.text
    with Session(engine) as s:
        out = s.scalars(select(Message).where(Message.direction == "out")).one()
        assert (out.text, out.status, out.channel) == ("Hi, this is Rita from billing.", "delivered", "web")
        assert s.scalars(select(ConsoleReply.author).where(ConsoleReply.message_id == out.id)).one() == "rita"
        assert s.get(Escalation, esc_id).first_reply_at == NOW
    assert [a.actor for a in _audit(engine, "rep_reply")] == ["rep:rita"]


class BotAnswersMeanwhile(WebChannel):
    """The web channel while another gateway worker answers the same patient: during the
    representative's send, the bot's own reply to that sender is written too."""

    def __init__(self, engine):
        self.engine = engine

    async def send(self, channel_user: str, text: str) -> SendResult:
        store.add_outbound(self.engine, channel="web", sender_key=f"web:{channel_user}",
                           text="The assistant's answer", status="delivered",
                           reply_to_id=None, now=NOW)
        return SendResult("delivered")


def test_only_the_rows_the_representative_sent_are_marked_theirs(engine):
    add_user(engine, "rita")
    esc_id = _held(engine, None)
    with TestClient(console_app(engine, channels=Channels([BotAnswersMeanwhile(engine)]))) as c:
        resp = c.post(f"/console/escalations/{esc_id}/reply",
                      data={"csrf_token": log_in(c, "rita"), "text": "Rita here."})
    assert resp.status_code == 200 and "Reply sent." in resp.text
    with Session(engine) as s:
        authors = dict(s.execute(
            select(Message.text, ConsoleReply.author)
            .outerjoin(ConsoleReply, ConsoleReply.message_id == Message.id)
            .where(Message.direction == "out")).all())
    assert authors == {"Rita here.": "rita", "The assistant's answer": None}


def test_only_the_holder_replies(rep, engine):
    esc_id = add_escalation(engine, status="assigned", assigned_to="otto")
    resp = rep.post(f"/console/escalations/{esc_id}/reply",
                    data={"csrf_token": rep.csrf, "text": "Hello"})
    assert resp.status_code == 400 and "this conversation is with otto" in resp.text
    with Session(engine) as s:
        assert s.scalars(select(Message)).first() is None


def test_empty_reply_is_refused(rep, engine):
    esc_id = _held(engine, None)
    resp = rep.post(f"/console/escalations/{esc_id}/reply", data={"csrf_token": rep.csrf, "text": "  "})
    assert resp.status_code == 400 and "the reply is empty" in resp.text


def test_note_is_added_and_shown(rep, engine):
    pid, _ = _account(engine)
    esc_id = _held(engine, pid)
    resp = rep.post(f"/console/escalations/{esc_id}/note",
                    data={"csrf_token": rep.csrf, "body": "Called the payer; EOB expected."})
    assert resp.status_code == 200 and "Called the payer; EOB expected." in resp.text
    assert len(_audit(engine, "escalation_note")) == 1


def test_return_to_bot_closes_with_a_note_and_tells_the_patient(rep, engine):
    esc_id = _held(engine, None)
    resp = rep.post(f"/console/escalations/{esc_id}/return",
                    data={"csrf_token": rep.csrf, "note": "Explained the lab charge."})
    assert resp.status_code == 200
    with Session(engine) as s:
        esc = s.get(Escalation, esc_id)
        assert (esc.status, esc.note, esc.closed_at) == ("closed", "Explained the lab charge.", NOW)
        handback = s.scalars(select(Message).where(Message.direction == "out")).one()
        assert "automated billing assistant" in handback.text
    assert not store.has_assigned_escalation(engine, "web:chat-1")  # the bot answers again
    assert len(_audit(engine, "return_to_bot")) == 1


def test_approve_refund_request(rep, engine):
    pid, _ = _account(engine, credit=True)
    with Session(engine) as s, s.begin():
        refund_id = request_refund(session=s, patient_id=pid, amount=3000, today=TODAY).refund_id
    esc_id = _held(engine, pid)
    page = rep.get(f"/console/escalations/{esc_id}").text
    assert refund_id in page and "$30.00" in page
    resp = rep.post(f"/console/escalations/{esc_id}/refunds/{refund_id}",
                    data={"csrf_token": rep.csrf, "decision": "approve"})
    assert resp.status_code == 200 and "Refund request decided." in resp.text
    with Session(engine) as s:
        refund = s.scalars(select(Refund).where(Refund.refund_id == refund_id)).one()
        assert refund.status == "approved"
        assert [(e.status, e.actor) for e in refund.events][-1] == ("approved", "rep:rita")
    assert [a.detail for a in _audit(engine, "refund_approved")] == [{"refund": refund_id}]


def test_refund_above_the_credit_is_not_approved(rep, engine):
    pid, _ = _account(engine, credit=True)
    with Session(engine) as s, s.begin():
        refund_id = request_refund(session=s, patient_id=pid, amount=5000, today=TODAY).refund_id
    esc_id = _held(engine, pid)
    resp = rep.post(f"/console/escalations/{esc_id}/refunds/{refund_id}",
                    data={"csrf_token": rep.csrf, "decision": "approve"})
    assert resp.status_code == 400 and "the account&#39;s credit is $30.00" in resp.text
    with Session(engine) as s:
        assert s.scalars(select(Refund.status).where(Refund.refund_id == refund_id)).one() == "requested"
    assert _audit(engine, "refund_approved") == []


def test_reject_refund_request(rep, engine):
    pid, _ = _account(engine, credit=True)
    with Session(engine) as s, s.begin():
        refund_id = request_refund(session=s, patient_id=pid, amount=3000, today=TODAY).refund_id
    esc_id = _held(engine, pid)
    rep.post(f"/console/escalations/{esc_id}/refunds/{refund_id}",
             data={"csrf_token": rep.csrf, "decision": "reject"})
    with Session(engine) as s:
        assert s.scalars(select(Refund.status).where(Refund.refund_id == refund_id)).one() == "rejected"
    assert len(_audit(engine, "refund_rejected")) == 1


def test_action_on_another_patients_record_is_refused(rep, engine):
    pid, _ = _account(engine, credit=True)
    other, _ = _account(engine, credit=True)
    with Session(engine) as s, s.begin():
        refund_id = request_refund(session=s, patient_id=other, amount=3000, today=TODAY).refund_id
    esc_id = _held(engine, pid)
    resp = rep.post(f"/console/escalations/{esc_id}/refunds/{refund_id}",
                    data={"csrf_token": rep.csrf, "decision": "approve"})
    assert resp.status_code == 400 and "no such refund request on this account" in resp.text


def test_confirm_insurance_change(rep, engine):
    pid, _ = _account(engine)
    with Session(engine) as s, s.begin():
        change_id = record_insurance_change(session=s, patient_id=pid, payer="Blue Harbor Health",
                                            member_id="BH-12345").id
    esc_id = _held(engine, pid)
    assert "Blue Harbor Health" in rep.get(f"/console/escalations/{esc_id}").text
    rep.post(f"/console/escalations/{esc_id}/insurance/{change_id}",
             data={"csrf_token": rep.csrf, "decision": "confirm"})
    with Session(engine) as s:
        change = s.get(InsuranceChange, change_id)
        assert (change.status, change.decided_by) == ("confirmed", "rep:rita")
    assert len(_audit(engine, "insurance_change_confirmed")) == 1


def test_resolve_dispute_with_an_adjustment(rep, engine):
    pid, ids = _account(engine)
    with Session(engine) as s, s.begin():
        ref = open_dispute(session=s, patient_id=pid, entry_ids=[ids["charge"]], summary="Billed twice",
                           amount=5000, now=NOW).reference
    esc_id = _held(engine, pid)
    resp = rep.post(f"/console/escalations/{esc_id}/disputes/{ref}", data={
        "csrf_token": rep.csrf, "adjustment": "20.00", "resolution": "Duplicate lab fee removed"})
    assert resp.status_code == 200 and "Dispute resolved." in resp.text
    with Session(engine) as s:
        dispute = s.scalars(select(Dispute).where(Dispute.reference == ref)).one()
        assert (dispute.status, dispute.resolution) == ("resolved", "Duplicate lab fee removed")
        adj = s.scalars(select(LedgerEntry).where(LedgerEntry.type == "patient_adjustment")).one()
        assert (adj.amount_cents, adj.claim_id, adj.posted_date) == (2000, "C1", TODAY)
        assert compute_balance(load_items(s, pid)).due_now == 3000
        charge = s.scalars(select(LedgerEntry).where(LedgerEntry.entry_id == ids["charge"])).one()
        assert charge.reminders_paused is False
    assert [a.detail for a in _audit(engine, "resolve_dispute")] == [
        {"dispute": ref, "adjustment_cents": 2000}]


@pytest.mark.parametrize("adjustment,reason", [
    ("250.00", "at most the disputed $200.00"),
    ("-5", "negative amount"),
    ("12.345", "more than two decimals"),
])
def test_bad_dispute_adjustment_changes_nothing(rep, engine, adjustment, reason):
    pid, ids = _account(engine)
    with Session(engine) as s, s.begin():
        ref = open_dispute(session=s, patient_id=pid, entry_ids=[ids["charge"]], summary="Billed twice",
                           amount=5000, now=NOW).reference
    esc_id = _held(engine, pid)
    resp = rep.post(f"/console/escalations/{esc_id}/disputes/{ref}", data={
        "csrf_token": rep.csrf, "adjustment": adjustment, "resolution": "x"})
    assert resp.status_code == 400 and reason in resp.text
    with Session(engine) as s:
        assert s.scalars(select(Dispute.status)).one() == "open"
        assert s.scalars(select(LedgerEntry).where(LedgerEntry.type == "patient_adjustment")).first() is None


def test_create_payment_plan_over_what_is_due(rep, engine):
    pid, _ = _account(engine)
    esc_id = _held(engine, pid)
    resp = rep.post(f"/console/escalations/{esc_id}/plan", data={
        "csrf_token": rep.csrf, "months": "2", "first_due": "2026-04-01"})
    assert resp.status_code == 200 and "Payment plan created." in resp.text
    with Session(engine) as s:
        plan = s.scalars(select(PaymentPlan)).one()
        assert (plan.total_cents, plan.months, plan.created_by) == (5000, 2, "rep:rita")
        assert [(i.due_date, i.amount_cents) for i in plan.installments] == [
            (date(2026, 4, 1), 2500), (date(2026, 5, 1), 2500)]
    assert len(_audit(engine, "create_plan")) == 1


def test_plan_under_the_minimum_installment_is_refused(rep, engine):
    pid, _ = _account(engine)
    esc_id = _held(engine, pid)
    resp = rep.post(f"/console/escalations/{esc_id}/plan", data={
        "csrf_token": rep.csrf, "months": "3", "first_due": "2026-04-01"})
    assert resp.status_code == 400 and "$25.00 minimum" in resp.text
    with Session(engine) as s:
        assert s.scalars(select(PaymentPlan)).first() is None


def test_account_actions_need_the_conversation_taken(rep, engine):
    pid, _ = _account(engine)
    esc_id = add_escalation(engine, patient_id=pid)  # queued, nobody has it
    resp = rep.post(f"/console/escalations/{esc_id}/plan", data={
        "csrf_token": rep.csrf, "months": "2", "first_due": "2026-04-01"})
    assert resp.status_code == 400 and "take this conversation" in resp.text


def test_viewing_an_account_is_audited_and_shows_the_summary(rep, engine):
    pid, _ = _account(engine)
    esc_id = _held(engine, pid)
    page = rep.get(f"/console/escalations/{esc_id}").text
    assert "Office visit (99213)" in page and "$50.00" in page and "self-pay" in page
    assert [a.patient_id for a in _audit(engine, "console_view_account")] == [pid]


def test_dashboard_figures(engine):
    _account(engine)
    with Session(engine) as s, s.begin():
        for i, minutes in enumerate((4, 10, 30)):
            s.add(Escalation(sender_key=f"web:e{i}", channel="web", reason="request_human",
                             priority=2, status="closed", created_at=NOW - timedelta(hours=1),
                             first_reply_at=NOW - timedelta(hours=1) + timedelta(minutes=minutes)))
        s.add(Escalation(sender_key="web:e3", channel="web", reason="dispute", priority=2,
                         status="queued", created_at=NOW))
    for key in ("web:e0", "web:e3", "web:b1", "web:b2"):
        store.record_inbound(engine, channel="web", sender_key=key, text="hi", external_id=None,
                             status="answered", now=NOW - timedelta(minutes=5))
    with Session(engine) as s:
        stats = dashboard.compute(s, NOW, TODAY)
    assert (stats.queued, stats.assigned) == (1, 0)
    assert stats.median_first_reply == timedelta(minutes=10)
    assert (stats.conversations, stats.resolved_by_bot, stats.bot_share_percent) == (4, 2, 50)
    assert stats.aging.buckets["1-30"] == 5000 and stats.aging.total == 5000
    svg = dashboard.aging_chart_svg(stats.aging)
    assert svg.count("<rect") == 6 and "$50.00" in svg


def test_the_account_view_shows_the_representatives_billing_checks(rep, engine):
    pid, ids = _account(engine)
    with Session(engine) as s, s.begin():  # the clinic's own price list: 99213 is 180.00
        s.add(ChargemasterItem(cpt_code="99213", description="Office visit", price_cents=18000))
    page = rep.get(f"/console/escalations/{_held(engine, pid)}").text
    assert "price differs: $20.00" in page and f"[{ids['charge']}], not told to the patient" in page


@pytest.mark.parametrize("path", ["note", "reply", "return", "plan", "refunds/R-1",
                                  "insurance/1", "disputes/D-AAAAAA"])
def test_a_form_on_a_conversation_that_does_not_exist_is_a_404(engine, path):
    add_user(engine, "rita")
    with TestClient(console_app(engine)) as c:
        csrf = log_in(c, "rita")
        resp = c.post(f"/console/escalations/4242/{path}",
                      data={"csrf_token": csrf, "body": "hello"})
        assert resp.status_code == 404 and "No such conversation." in resp.text


def test_an_id_past_the_databases_integers_is_refused_before_the_database(engine):
    add_user(engine, "rita")
    with TestClient(console_app(engine)) as c:
        csrf = log_in(c, "rita")
        too_big = 2**63
        assert c.get(f"/console/escalations/{too_big}").status_code == 422
        assert c.post(f"/console/escalations/{too_big}/take",
                      data={"csrf_token": csrf}).status_code == 422
        assert c.get("/console/escalations/0").status_code == 422
        assert c.get(f"/console/accounts/{too_big}").status_code == 422


def test_the_console_shows_each_conversations_language_and_sends_a_spanish_reply_as_typed(
        rep, engine):
    from billing.languages.enums import LanguageSource
    from billing.languages.service import remember
    pid, _ = _account(engine)
    esc_id = _held(engine, pid, sender_key="web:chat-es")
    add_escalation(engine, sender_key="web:chat-en")
    with Session(engine) as s, s.begin():
        remember(s, "web:chat-es", "es", LanguageSource.DETECTED, NOW)
    queue_page = rep.get("/console/").text
    assert '<td class="language">Spanish</td>' in queue_page
    assert '<td class="language">English</td>' in queue_page
    page = rep.get(f"/console/escalations/{esc_id}").text
    assert "writes in Spanish" in page
    typed = "Hola, soy Rita de cobros. ¿En qué le ayudo?"
    resp = rep.post(f"/console/escalations/{esc_id}/reply",
                    data={"csrf_token": rep.csrf, "text": typed})
    assert resp.status_code == 200 and "Reply sent." in resp.text
    with Session(engine) as s:
        out = s.scalars(select(Message).where(Message.direction == "out")).one()
        assert out.text == typed
