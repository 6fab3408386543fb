"""Reminder runs on a real database, sending with the real twilio client to the Twilio double:
selection in SQL, every never-sent rule, deferral, the cap, retries, 21610, the rate limit,
the transcript, and exactly once across a crash and a killed process."""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.accounts import load_items
from billing.core.aging import age_account
from billing.db.models import AuditLog, LedgerEntry, Patient
from billing.disputes.models import Dispute
from billing.payment_plans.models import PaymentPlan
from bot import message_store
from bot.channels.registry import Channels
from bot.channels.sms import SmsChannel
from bot.channels.sms_transport import SmsSender
from bot.messaging_models import Message, SmsOptOut
from bot.reminders.policy import ReminderConfig
from bot.reminders.reminders_models import ReminderOutbox
from bot.reminders.run import ChannelSenders, run_reminders
from bot.reminders.select import find_candidates
from clinic.settings import Settings
from tests.doubles.twilio import TwilioDouble

ROOT = Path(__file__).resolve().parents[3]
SID, TOKEN, FROM = "AC" + "1" * 32, "token-for-tests", "+15550009999"
NOON = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # 12:00 in New York, 09:00 in Los Angeles
_seq = itertools.count(1)


# ---- builders ---------------------------------------------------------------------------

def add_patient(s: Session, *, tz="America/New_York", state="NY", consent=True,
                channel="sms", phone: str | None = "auto", chat: int | None = None) -> Patient:
    n = next(_seq)
    p = Patient(account_number=f"A{100000 + n}", first_name="Pat", last_name=f"Doe{n}",
                date_of_birth=date(1980, 1, 1),
                phone=f"+1555{2000000 + n:07d}" if phone == "auto" else phone,
                telegram_chat_id=chat, timezone=tz, state=state, preferred_channel=channel,
                sms_consent=consent)
    s.add(p)
    s.flush()
    return p


def add_line(s: Session, p: Patient, kind: str, cents: int, *, day=date(2026, 3, 1),
             due: date | None = None, claim: str | None = None, status=None,
             paused=False) -> LedgerEntry:
    e = LedgerEntry(entry_id=f"E{next(_seq)}", patient_id=p.id, type=kind, amount_cents=cents,
                    posted_date=day, service_date=day if kind == "charge" else None,
                    claim_id=claim, claim_status=status, due_date=due, reminders_paused=paused,
                    description="Office visit" if kind == "charge" else None,
                    provider="Dr. Rivera" if kind == "charge" else None)
    s.add(e)
    s.flush()
    return e


def overdue(s: Session, days: int = 20, **kw) -> Patient:
    """A patient owing $120.00 on one visit that fell due `days` days before NOON."""
    p = add_patient(s, **kw)
    claim = f"CL{next(_seq)}"
    add_line(s, p, "charge", 20000, claim=claim, status="adjudicated",
             due=NOON.date() - timedelta(days=days))
    add_line(s, p, "insurance_payment", 8000, claim=claim)
    return p


@pytest.fixture
def twilio():
    with TwilioDouble(SID, TOKEN) as d:
        yield d


def settings_for(double: TwilioDouble | None, url: str | None = None) -> Settings:
    base = Settings() if url is None else Settings(database_url=url)  # an empty URL is refused
    return base.replace(twilio_account_sid=SID, twilio_auth_token=TOKEN,
                        twilio_from_number=FROM,
                        twilio_api_base_url=double.url if double else "http://127.0.0.1:9")


def sms(double: TwilioDouble) -> ChannelSenders:
    s = settings_for(double)
    return ChannelSenders(Channels([SmsChannel(s, SmsSender(s, backoff_s=(0.0, 0.0)))]))


FAST = ReminderConfig(segments_per_second=1000.0)


def run(engine, double, now=NOON, config=FAST, **kw):
    return run_reminders(settings_for(double), engine, now, sender=sms(double),
                         config=config, **kw)


def rows(engine) -> list[ReminderOutbox]:
    with Session(engine) as s:
        return list(s.scalars(select(ReminderOutbox).order_by(ReminderOutbox.id)))


def texted(double: TwilioDouble) -> list[str]:
    return [p["To"] for p in double.sent]


# ---- selection --------------------------------------------------------------------------

def test_selection_in_sql_agrees_with_the_aging_rules(engine):
    today = NOON.date()
    with Session(engine, expire_on_commit=False) as s, s.begin():
        plain = overdue(s, days=20)
        pending = add_patient(s)  # waiting on insurance: not the patient's yet
        add_line(s, pending, "charge", 9000, claim="P1", status="pending",
                 due=today - timedelta(days=40))
        credit = add_patient(s)  # an unapplied payment pays the oldest visit first
        add_line(s, credit, "charge", 5000, claim="C1", status="adjudicated",
                 due=today - timedelta(days=50))
        add_line(s, credit, "charge", 7000, claim="C2", status="adjudicated",
                 due=today - timedelta(days=10))
        add_line(s, credit, "patient_payment", 5000)
        paid = add_patient(s)
        add_line(s, paid, "charge", 5000, claim="D1", status="self_pay",
                 due=today - timedelta(days=30))
        add_line(s, paid, "patient_payment", 5000, claim="D1")
        undated = add_patient(s)  # never billed: no due date, never past due
        add_line(s, undated, "charge", 5000, claim="U1", status="adjudicated")
        due_today = add_patient(s)
        add_line(s, due_today, "charge", 5000, status="self_pay", due=today)
        loose = add_patient(s)  # charges without claim ids are visits of their own
        add_line(s, loose, "charge", 3000, due=today - timedelta(days=70))
        add_line(s, loose, "charge", 3000, due=today - timedelta(days=5))
        add_line(s, loose, "refund", 1000, day=today - timedelta(days=3))
        ids = [plain.id, pending.id, credit.id, paid.id, undated.id, due_today.id, loose.id]
    found = {c.patient_id: c for c in find_candidates(engine, NOON)}
    with Session(engine) as s:
        for pid in ids:
            aging = age_account(load_items(s, pid), today)
            if aging.oldest_days_past_due > 0:
                assert (today - found[pid].oldest_due).days == aging.oldest_days_past_due
            else:
                assert pid not in found or (today - found[pid].oldest_due).days <= 0
    assert (today - found[credit.id].oldest_due).days == 10
    assert (today - found[loose.id].oldest_due).days == 70


def test_a_paused_line_does_not_drive_reminders(engine):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = add_patient(s)
        add_line(s, p, "charge", 5000, claim="X1", status="self_pay",
                 due=NOON.date() - timedelta(days=40), paused=True)
        add_line(s, p, "charge", 5000, claim="X2", status="self_pay",
                 due=NOON.date() - timedelta(days=3))
    (c,) = list(find_candidates(engine, NOON))
    assert (NOON.date() - c.oldest_due).days == 3


# ---- the run ----------------------------------------------------------------------------

def test_due_reminder_is_sent_once_and_on_the_senders_transcript(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = overdue(s, days=20)
        phone = p.phone
    report = run(engine, twilio)
    assert report.sent == 1 and texted(twilio) == [phone]
    body = twilio.sent[0]["Body"]
    assert body.startswith("Riverside Family Clinic:") and "$" not in body
    assert "Rivera" not in body and "Office" not in body and "Reply STOP to opt out." in body
    (row,) = rows(engine)
    assert (row.step, row.status, row.attempts) == (15, "sent", 1)
    with Session(engine) as s:
        msg = s.get(Message, row.message_id)
    assert (msg.direction, msg.sender_key, msg.external_id, msg.text) == (
        "out", f"sms:{phone}", row.provider_sid, body)
    # Later the same day, and the next day: nothing more for step 15.
    run(engine, twilio, now=NOON + timedelta(hours=2))
    run(engine, twilio, now=NOON + timedelta(days=1))
    assert len(twilio.sent) == 1


def test_dry_run_writes_and_sends_nothing(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        overdue(s, days=20)
    report = run(engine, twilio, dry_run=True)
    assert report.actions["send"] == 1 and report.sent == 0
    assert twilio.sent == [] and rows(engine) == []


def test_never_sent_without_consent_after_stop_in_dispute_or_on_a_plan(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        no_consent = overdue(s, consent=False)
        stopped = overdue(s)
        stopped.sms_opted_out_at = NOON - timedelta(days=2)
        gateway_stop = overdue(s)  # STOP recorded by the gateway only
        s.add(SmsOptOut(phone=gateway_stop.phone, opted_out=True, opted_out_at=NOON,
                        source="keyword"))
        disputed = overdue(s)
        s.add(Dispute(reference="D-1", patient_id=disputed.id, status="open", summary="x"))
        resolved = overdue(s)  # a resolved dispute does not stop reminders
        s.add(Dispute(reference="D-2", patient_id=resolved.id, status="resolved", summary="x"))
        planned = overdue(s)
        s.add(PaymentPlan(patient_id=planned.id, total_cents=12000, monthly_cents=4000,
                          months=3, start_date=date(2026, 6, 1), status="active"))
        old_plan = overdue(s)
        s.add(PaymentPlan(patient_id=old_plan.id, total_cents=12000, monthly_cents=4000,
                          months=3, start_date=date(2026, 1, 1), status="cancelled"))
        telegram_unlinked = overdue(s, channel="telegram")
        telegram_stopped = overdue(s, channel="telegram", chat=880011)
        telegram_stopped.telegram_opted_out_at = NOON - timedelta(days=2)
        ok = {resolved.phone, old_plan.phone}
    report = run(engine, twilio)
    assert set(texted(twilio)) == ok and len(twilio.sent) == 2
    reasons = {d.account_number: d.reason for d in report.decisions if d.action == "skip"}
    assert reasons == {
        no_consent.account_number: "no SMS consent",
        stopped.account_number: "opted out (STOP)",
        gateway_stop.account_number: "opted out (STOP)",
        disputed.account_number: "open dispute",
        planned.account_number: "on a payment plan",
        telegram_unlinked.account_number: "no Telegram chat linked",
        telegram_stopped.account_number: "opted out of Telegram reminders (STOP)",
    }


def test_quiet_hours_defer_to_the_morning_and_the_morning_run_sends(engine, twilio):
    late = datetime(2026, 6, 16, 1, 30, tzinfo=UTC)  # 21:30 New York, 18:30 Los Angeles
    with Session(engine, expire_on_commit=False) as s, s.begin():
        east = overdue(s)
        west = overdue(s, tz="America/Los_Angeles", state="CA")
        miami = overdue(s, tz="America/New_York", state="FL")
    report = run(engine, twilio, now=late)
    assert texted(twilio) == [west.phone]
    deferred = {r.patient_id: r for r in rows(engine) if r.status == "pending"}
    assert set(deferred) == {east.id, miami.id}
    morning = datetime(2026, 6, 16, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert all(r.not_before == morning for r in deferred.values())
    assert report.reasons["quiet hours"] == 2
    run(engine, twilio, now=morning - timedelta(minutes=1))
    assert len(twilio.sent) == 1  # still too early
    run(engine, twilio, now=morning)
    assert sorted(texted(twilio)) == sorted([west.phone, east.phone, miami.phone])
    assert {r.status for r in rows(engine)} == {"sent"}


def test_daylight_saving_morning_uses_the_new_offset(engine, twilio):
    # Sunday 2026-03-08, 07:30 CDT in Chicago (clocks went forward at 02:00).
    at = datetime(2026, 3, 8, 12, 30, tzinfo=UTC)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = add_patient(s, tz="America/Chicago", state="IL")
        add_line(s, p, "charge", 5000, status="self_pay", due=date(2026, 3, 1))
    run(engine, twilio, now=at)
    (row,) = rows(engine)
    assert row.status == "pending" and row.not_before == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    run(engine, twilio, now=datetime(2026, 3, 8, 13, 0, tzinfo=UTC))
    assert len(twilio.sent) == 1


def test_frequency_cap_holds_the_next_step_for_seven_days(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = overdue(s, days=12)  # step 1 now; step 15 three days later
    run(engine, twilio)
    three_days = NOON + timedelta(days=3)
    report = run(engine, twilio, now=three_days)
    assert len(twilio.sent) == 1 and report.reasons["frequency cap (7 days)"] == 1
    run(engine, twilio, now=NOON + timedelta(days=7) - timedelta(minutes=1))
    assert len(twilio.sent) == 1
    run(engine, twilio, now=NOON + timedelta(days=7, seconds=1))  # sent_at: NOON + run time
    assert len(twilio.sent) == 2
    assert [(r.step, r.status) for r in rows(engine)] == [(1, "sent"), (15, "sent")]
    assert p.id


def test_unsubscribed_number_21610_records_the_opt_out_and_is_not_retried(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = overdue(s, days=20)
        pid, phone = p.id, p.phone
    twilio.fail_next(21610, 400, "Attempt to send to unsubscribed recipient")
    report = run(engine, twilio)
    assert report.failed == 1 and len(twilio.sent) == 1
    (row,) = rows(engine)
    assert (row.status, row.error_code) == ("failed", "21610")
    assert message_store.is_opted_out(engine, phone)
    with Session(engine) as s:
        assert s.get(Patient, pid).sms_opted_out_at is not None
    report = run(engine, twilio, now=NOON + timedelta(days=20))  # step 30: still never
    assert len(twilio.sent) == 1
    assert [d.reason for d in report.decisions] == ["opted out (STOP)"]


def test_a_rate_limited_send_is_retried_later_and_a_bad_number_is_not(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        busy = overdue(s, days=20)
        bad = overdue(s, days=20)
    # SmsSender tries three times itself; all three get 429, then the bad number 21211.
    twilio.fail_next(20429, 429, "Too Many Requests", times=3)
    twilio.fail_next(21211, 400, "Invalid 'To' Phone Number")
    report = run(engine, twilio)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 1)
    by_patient = {r.patient_id: r for r in rows(engine)}
    assert by_patient[busy.id].status == "pending"
    wait = by_patient[busy.id].not_before - NOON  # one minute after the (timed) attempt
    assert timedelta(minutes=1) <= wait < timedelta(minutes=1, seconds=10)
    assert (by_patient[bad.id].status, by_patient[bad.id].error_code) == ("failed", "21211")
    run(engine, twilio, now=NOON + timedelta(seconds=30))  # backoff not over yet
    assert len(twilio.sent) == 4
    report = run(engine, twilio, now=NOON + timedelta(minutes=2))
    assert report.sent == 1 and texted(twilio)[-1] == busy.phone
    assert texted(twilio).count(bad.phone) == 1
    by_patient = {r.patient_id: r for r in rows(engine)}
    assert (by_patient[busy.id].status, by_patient[busy.id].attempts) == ("sent", 2)


def test_retries_stop_at_the_attempt_limit(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        overdue(s, days=20)
    cfg = ReminderConfig(segments_per_second=1000.0, max_attempts=2)
    twilio.fail_next(20503, 503, "Service Unavailable", times=6)
    run(engine, twilio, config=cfg)
    run(engine, twilio, now=NOON + timedelta(minutes=5), config=cfg)
    (row,) = rows(engine)
    assert (row.status, row.attempts, row.error_code) == ("failed", 2, "20503")
    run(engine, twilio, now=NOON + timedelta(hours=1), config=cfg)
    assert len(twilio.sent) == 6


def test_account_no_longer_due_cancels_its_deferred_reminder(engine, twilio):
    late = datetime(2026, 6, 16, 2, 0, tzinfo=UTC)  # 22:00 New York
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = overdue(s, days=20)
    run(engine, twilio, now=late)
    assert rows(engine)[0].status == "pending"
    with Session(engine, expire_on_commit=False) as s, s.begin():
        s.add(Dispute(reference="D-9", patient_id=p.id, status="open", summary="x"))
    report = run(engine, twilio, now=late + timedelta(hours=10))
    assert twilio.sent == [] and report.cancelled == 1
    assert (rows(engine)[0].status, rows(engine)[0].reason) == ("cancelled", "open dispute")


def test_aged_account_is_flagged_for_review_not_referred(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = overdue(s, days=130)
        young = overdue(s, days=30)
    report = run(engine, twilio)
    assert report.flagged == 1
    with Session(engine) as s:
        assert s.get(Patient, p.id).needs_review and not s.get(Patient, young.id).needs_review
        audit = s.scalars(select(AuditLog).where(AuditLog.patient_id == p.id)).one()
        assert (audit.actor, audit.action) == ("reminders", "flag_for_review")
    assert [r.step for r in rows(engine)] == [90, 30]  # it still gets its last reminder


@pytest.mark.parametrize("tz, state, sent", [
    ("America/New_York", "NY", True), ("America/Chicago", "TX", True),
    ("America/Denver", "CO", True), ("America/Phoenix", "AZ", True),
    ("America/Los_Angeles", "CA", True), ("America/Anchorage", "AK", False),
    ("Pacific/Honolulu", "HI", False),
])
def test_one_run_across_us_zones(sqlite_url, twilio, tz, state, sent):
    from billing.db.engine import make_engine

    engine = make_engine(sqlite_url)
    at = datetime(2026, 6, 15, 15, 30, tzinfo=UTC)  # 08:30 LA, 07:30 Anchorage, 05:30 Honolulu
    with Session(engine, expire_on_commit=False) as s, s.begin():
        overdue(s, tz=tz, state=state)
    run(engine, twilio, now=at)
    assert (len(twilio.sent) == 1) is sent
    engine.dispose()


def test_rate_limit_one_segment_per_second_measured_at_the_double(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        for _ in range(4):
            overdue(s)
    run(engine, twilio, config=ReminderConfig())  # the default: 1 segment per second
    times = [r.at for r in twilio.requests]
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # The limiter counts from each answer, so arrivals are never closer than the interval.
    assert min(gaps) >= 1.0, gaps
    assert times[-1] - times[0] < 4.5


def test_a_faster_sender_is_configurable(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        for _ in range(6):
            overdue(s)
    run(engine, twilio, config=ReminderConfig(segments_per_second=5.0))
    times = [r.at for r in twilio.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 6 and min(gaps) >= 0.2, gaps
    assert times[-1] - times[0] < 2.0


# ---- exactly once -----------------------------------------------------------------------

class CrashAfterSending:
    """The real sender, and then the process 'dies' before the result is recorded."""

    def __init__(self, inner: ChannelSenders, crash_on: int):
        self.inner, self.crash_on, self.calls = inner, crash_on, 0

    def rate_key(self, channel):
        return self.inner.rate_key(channel)

    def send(self, channel, address, text):
        self.calls += 1
        result = self.inner.send(channel, address, text)
        if self.calls == self.crash_on:
            raise SystemExit("killed between the send and its record")
        return result


def test_crash_between_send_and_record_never_sends_twice(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        phones = [overdue(s).phone for _ in range(5)]
    with pytest.raises(SystemExit):
        run_reminders(settings_for(twilio), engine, NOON, config=FAST,
                      sender=CrashAfterSending(sms(twilio), crash_on=3))
    assert len(twilio.sent) == 3
    assert [r.status for r in rows(engine)] == ["sent", "sent", "sending", "pending", "pending"]
    # Restarted at once: the claimed row is left alone, the rest go out.
    report = run(engine, twilio, now=NOON + timedelta(minutes=1))
    assert report.sent == 2 and sorted(texted(twilio)) == sorted(phones)
    # Later the orphaned claim is marked unknown, still never resent.
    report = run(engine, twilio, now=NOON + timedelta(minutes=30))
    assert report.orphaned == 1 and len(twilio.sent) == 5
    assert [r.status for r in rows(engine)].count("unknown") == 1


def test_killed_process_resumed_sends_each_reminder_once(sqlite_url, twilio):
    from billing.db.engine import make_engine

    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        phones = [overdue(s).phone for _ in range(6)]
    env = {**os.environ, "DATABASE_URL": sqlite_url, "TWILIO_ACCOUNT_SID": SID,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": FROM,
           "TWILIO_API_BASE_URL": twilio.url, "PUBLIC_BASE_URL": "http://127.0.0.1:9"}
    cmd = [sys.executable, "-m", "bot.cli", "remind", "--now", NOON.isoformat()]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(twilio.sent) < 3 and time.monotonic() < deadline:  # 1 per second: ~2 s
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    got = len(twilio.sent)
    assert 3 <= got < 6
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(set(texted(twilio))) == sorted(phones)
    assert len(twilio.sent) == 6  # each once, none twice
    with Session(engine) as s:
        statuses = dict(s.execute(select(ReminderOutbox.status, func.count())
                                  .group_by(ReminderOutbox.status)).all())
    assert statuses.get("sent", 0) + statuses.get("sending", 0) == 6
    engine.dispose()


def test_telegram_patient_gets_the_reminder_in_their_linked_chat(engine, twilio):
    from bot.channels.telegram import TelegramChannel
    from bot.channels.telegram_transport import TelegramSender, make_bot
    from tests.doubles.telegram import TelegramDouble

    token = "123456:telegram-test-token"
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = overdue(s, channel="telegram", chat=4242, consent=False)
    with TelegramDouble(token) as tg:
        settings = Settings(telegram_bot_token=token, telegram_api_base_url=tg.url)
        sender = ChannelSenders(Channels([
            SmsChannel(settings_for(twilio)),
            TelegramChannel(settings, TelegramSender(make_bot(settings)))]))
        try:
            report = run_reminders(settings, engine, NOON, sender=sender, config=FAST)
        finally:
            sender.close()
        (call,) = tg.calls("sendMessage")
    assert report.sent == 1 and twilio.sent == []
    assert int(call["chat_id"]) == 4242 and "Reply BAL" in call["text"]
    (row,) = rows(engine)
    assert (row.channel, row.sender_key, row.status) == ("telegram", "tg:4242", "sent")
    with Session(engine) as s:
        msg = s.get(Message, row.message_id)
    assert (msg.sender_key, msg.external_id) == ("tg:4242", row.provider_sid)
    assert p.id


def test_an_account_paid_up_and_overdue_again_starts_the_cadence_again(engine, twilio):
    with Session(engine) as s, s.begin():
        p = overdue(s, days=95)  # $120.00 owed, 95 days past due: the day-90 step
        pid, phone = p.id, p.phone
    run(engine, twilio)
    assert texted(twilio) == [phone]
    with Session(engine) as s, s.begin():
        p = s.get(Patient, pid)
        add_line(s, p, "patient_payment", 12000, day=NOON.date())  # paid up
        # a new visit, due 2 days before a run a month later
        later = NOON + timedelta(days=30)
        claim = f"CL{next(_seq)}"
        add_line(s, p, "charge", 5000, claim=claim, status="adjudicated",
                 day=later.date() - timedelta(days=20), due=later.date() - timedelta(days=2))
    report = run(engine, twilio, now=later)
    assert texted(twilio) == [phone, phone]  # the day-1 reminder of the new episode
    [d] = [d for d in report.decisions if d.patient_id == pid]
    assert (d.action, d.step) == ("send", 1)
    assert [(r.step, r.status) for r in rows(engine)] == [(90, "sent"), (1, "sent")]
    # and the same episode is still reminded once per step
    run(engine, twilio, now=later + timedelta(days=1))
    assert len(twilio.sent) == 2
