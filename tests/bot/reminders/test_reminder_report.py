"""What the reminders did: sent, delivered (from the gateway's status callbacks), failed, and
payments within 14 days; and the `billbot remind` / `billbot report reminders` commands."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import post_payment
from billing.db.models import Patient
from bot import message_store
from bot.cli import main
from bot.reminders.reminders_models import ReminderOutbox
from bot.reminders.report import build_report, format_report
from tests.bot.reminders.test_reminder_run import NOON, SID, TOKEN, overdue, rows, run
from tests.doubles.twilio import TwilioDouble

NY = "America/New_York"


@pytest.fixture
def twilio():
    with TwilioDouble(SID, TOKEN) as d:
        yield d


def test_report_counts_sent_delivered_failed_and_payments_that_followed(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        refused = overdue(s, days=20)  # sent first (outbox order), refused by the double
        delivered = overdue(s, days=20)
        undelivered = overdue(s, days=20)
        paid_late = overdue(s, days=40)
        not_sent = overdue(s, days=40, consent=False)
    twilio.fail_next(21211, 400, "Invalid 'To' Phone Number")
    run(engine, twilio)
    by_patient = {r.patient_id: r for r in rows(engine)}
    assert by_patient[refused.id].status == "failed"
    sid = {pid: r.provider_sid for pid, r in by_patient.items()}
    later = NOON + timedelta(minutes=2)
    message_store.record_delivery_status(engine, "sms", sid[delivered.id], "delivered", None,
                                         later)
    message_store.record_delivery_status(engine, "sms", sid[undelivered.id], "undelivered",
                                         "30003", later)
    with Session(engine) as s, s.begin():
        post_payment(session=s, patient_id=delivered.id, amount=5000, method="card", on=NOON.date() + timedelta(days=3))
        post_payment(session=s, patient_id=delivered.id, amount=2500, method="card", on=NOON.date() + timedelta(days=14))
        post_payment(session=s, patient_id=paid_late.id, amount=12000, method="card", on=NOON.date() + timedelta(days=15))
        post_payment(session=s, patient_id=not_sent.id, amount=12000, method="card", on=NOON.date() + timedelta(days=1))
    report = build_report(engine, clinic_timezone=NY)
    day15, day30 = report.steps[15], report.steps[30]
    assert (day15.sent, day15.delivered, day15.undelivered, day15.failed) == (2, 1, 1, 1)
    assert (day15.paid_within, day15.payments, day15.paid_cents) == (1, 2, 7500)
    assert (day30.sent, day30.paid_within, day30.paid_cents) == (1, 0, 0)
    total = report.total()
    assert (total.sent, total.failed, total.paid_cents) == (3, 1, 7500)
    text = format_report(report)
    assert "day 15" in text and "$75.00" in text
    assert not_sent.account_number not in text and "+1555" not in text


def test_a_payment_is_credited_once_to_the_latest_reminder_before_it(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        p = overdue(s, days=12)  # step 1 now, step 15 a week later
    run(engine, twilio)
    run(engine, twilio, now=NOON + timedelta(days=7, seconds=1))
    with Session(engine) as s, s.begin():
        post_payment(session=s, patient_id=p.id, amount=4000, method="card", on=NOON.date() + timedelta(days=9))
    report = build_report(engine, clinic_timezone=NY)
    assert (report.steps[1].payments, report.steps[15].payments) == (0, 1)
    assert report.total().paid_cents == 4000
    assert build_report(engine, clinic_timezone=NY, window_days=1).total().payments == 0
    since = build_report(engine, clinic_timezone=NY, since=NOON.date() + timedelta(days=1))
    assert list(since.steps) == [15]


def test_interrupted_send_is_reported_for_a_person_to_check(engine, twilio):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        overdue(s)
    run(engine, twilio)
    with Session(engine) as s, s.begin():
        s.execute(ReminderOutbox.__table__.update().values(status="unknown"))
    text = format_report(build_report(engine))
    assert "may or may not have gone out" in text


@pytest.fixture
def demo_db(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo-data", "--today", "2026-11-20", "--patients", "60"]) == 0
    return sqlite_url


def test_dry_run_on_the_demo_clinic_prints_a_readable_table_without_patient_data(
        demo_db, capsys):
    from billing.db.engine import make_engine

    capsys.readouterr()
    assert main(["remind", "--dry-run", "--now", "2026-11-20T15:00:00Z"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].endswith("(dry run: nothing written or sent)")
    assert lines[1].split() == ["account", "days", "step", "channel", "local", "time",
                                "decision"]
    assert any("would send" in line for line in lines)
    assert any("skip: " in line for line in lines) or any("defer" in line for line in lines)
    assert re.search(r"\d+ past due: \d+ to send, \d+ deferred, \d+ skipped", out)
    engine = make_engine(demo_db)
    with Session(engine) as s:
        people = s.execute(select(Patient.first_name, Patient.last_name, Patient.phone)).all()
        assert s.scalars(select(ReminderOutbox)).first() is None  # nothing written
    engine.dispose()
    words = set(re.findall(r"[A-Za-z]+", out))
    for first, last, phone in people:
        assert first not in words and last not in words
        assert not phone or phone not in out
    assert "$" not in out and not re.search(r"\d+\.\d\d\b", out)


def test_report_command_and_bad_input(demo_db, capsys):
    assert main(["remind", "--now", "yesterday"]) == 2
    assert "not an ISO 8601 time" in capsys.readouterr().err
    assert main(["remind", "--limit", "-1", "--dry-run"]) == 2
    assert main(["report", "reminders", "--since", "last week"]) == 2
    capsys.readouterr()
    assert main(["report", "reminders", "--since", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Reminders since 2026-11-01; payments counted when posted within 14")
    assert out.splitlines()[-1].split()[:2] == ["all", "0"]
