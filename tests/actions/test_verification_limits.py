"""Guessing a date of birth across senders: failures against one account from any web
sessions and SMS count together and lock the account, after which even the right date
discloses nothing; the same words answer for an account that does not exist; a family
phone's name/date pairs count against the family's accounts; one web client address is
limited too. Every conversation runs the real verify form on a real database."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from billing.db.models import AuditLog
from billing.escalations.models import Escalation
from billing.verification_limits import lift_account_lock, locked_accounts
from clinic.settings import Settings
from tests.dialogue_factories import add_patient
from tests.verify_support import VerifyChat

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
SETTINGS = Settings(verification_account_max_failures=5, verification_account_window_minutes=1440,
                    verification_account_lock_minutes=1440,
                    web_verification_failures_per_address=10)
RIGHT, WRONG = "A7000 03/14/1985", "A7000 {:02d}/01/1985"
PHONE = "+15551230000"


def guess(session, account: str, dob: str, now=NOW, client_ref=None) -> tuple[VerifyChat, str]:
    chat = VerifyChat.web(session, SETTINGS, now, client_ref)
    chat.start()
    return chat, chat.say(f"{account} {dob}")


def test_guessing_over_ten_web_sessions_locks_the_account_and_the_right_date_discloses_nothing(
        session):
    p = add_patient(session, account_number="A7000", first_name="Maria", dob=date(1985, 3, 14))
    replies = [guess(session, "A7000", f"{m:02d}/01/1985")[1] for m in range(1, 11)]
    assert all("doesn't match" in r for r in replies[:4])
    assert "too many attempts" in replies[4] and "billing team to follow up" in replies[4]
    assert all("too many attempts" in r and "doesn't match" not in r for r in replies[5:])
    chat, reply = guess(session, "A7000", "03/14/1985")
    assert chat.result == "locked" and chat.verified_patient() is None
    assert "Maria" not in reply and "verified" not in reply
    assert reply == replies[9]  # the right date gets the wrong dates' words
    # The lock is in the audit log once, and one representative was asked to follow up.
    audits = session.scalars(select(AuditLog).where(
        AuditLog.action == "verification_account_locked")).all()
    assert [(a.patient_id, a.detail["failures"]) for a in audits] == [(p.id, 5)]
    assert session.scalars(select(Escalation.reason)).all() == ["verification_locked"]


def test_the_lock_ends_after_its_period_or_when_a_representative_lifts_it(session):
    p = add_patient(session, account_number="A7000", dob=date(1985, 3, 14))
    for m in range(1, 6):
        guess(session, "A7000", f"{m:02d}/01/1985")
    assert [a.account_number for a in locked_accounts(session, NOW)] == ["A7000"]
    later = NOW + timedelta(minutes=1441)
    assert guess(session, "A7000", "03/14/1985", now=later)[0].verified_patient() == p.id
    for m in range(1, 6):
        guess(session, "A7000", f"{m:02d}/01/1985", now=later)
    assert lift_account_lock(session, "a7000", actor="rep:ann", now=later) is True
    assert locked_accounts(session, later) == []
    assert guess(session, "A7000", "03/14/1985", now=later)[0].verified_patient() == p.id
    assert session.scalars(select(AuditLog.actor).where(
        AuditLog.action == "lift_verification_lock")).all() == ["rep:ann"]


def test_sms_and_web_failures_against_one_account_count_together(session):
    p = add_patient(session, account_number="A7000", dob=date(1985, 3, 14), phone=PHONE)
    sms = VerifyChat(session, f"sms:{PHONE}", SETTINGS, NOW)
    assert "date of birth" in sms.start()
    for m in (1, 2, 3):  # the third locks this sender for 30 minutes
        reply = sms.say(f"{m:02d}/01/1985")
    assert sms.result == "locked" and "30 minutes" in reply
    for m in (4, 5):  # two web sessions: five against the account
        _, reply = guess(session, "A7000", f"{m:02d}/01/1985")
    assert "too many attempts" in reply
    sms = VerifyChat(session, f"sms:{PHONE}", SETTINGS, NOW + timedelta(minutes=31))
    assert "too many attempts" in sms.start()  # asked for no date at all
    assert sms.result == "locked" and sms.verified_patient() is None
    chat, reply = guess(session, "A7000", "03/14/1985", now=NOW + timedelta(minutes=31))
    assert chat.verified_patient() is None and "too many attempts" in reply
    assert locked_accounts(session, NOW)[0].patient_id == p.id


def test_an_account_that_does_not_exist_gets_the_same_words_at_every_step(session):
    add_patient(session, account_number="A7000", dob=date(1985, 3, 14))
    real = [guess(session, "A7000", f"{m:02d}/01/1985")[1] for m in range(1, 8)]
    made_up = [guess(session, "A7999", f"{m:02d}/01/1985")[1] for m in range(1, 8)]
    assert made_up == real
    assert {a.account_number for a in locked_accounts(session, NOW)} == {"A7000", "A7999"}
    assert [a.patient_id for a in locked_accounts(session, NOW)
            if a.account_number == "A7999"] == [None]


def test_a_family_phones_name_and_date_pairs_lock_the_familys_accounts(session):
    add_patient(session, account_number="A1003", first_name="Ana", dob=date(1978, 1, 9),
                phone=PHONE)
    add_patient(session, account_number="A1004", first_name="Leo", dob=date(2012, 8, 17),
                phone=PHONE)
    at = NOW
    for round_ in range(2):  # wait out the sender's own 30-minute lock in between
        sms = VerifyChat(session, f"sms:{PHONE}", SETTINGS, at)
        assert "more than one patient" in sms.start()
        for m in range(1, 4 - round_):
            reply = sms.say(f"Ana {m:02d}/02/1978")
        at += timedelta(minutes=31)
    assert "too many attempts" in reply
    assert {a.account_number for a in locked_accounts(session, at)} == {"A1003", "A1004"}
    chat, reply = guess(session, "A1004", "08/17/2012", now=at)
    assert chat.verified_patient() is None and "too many attempts" in reply
    sms = VerifyChat(session, f"sms:{PHONE}", SETTINGS, at)
    assert "too many attempts" in sms.start()


def test_one_client_address_may_fail_only_so_often_across_accounts(session):
    add_patient(session, account_number="A7000", dob=date(1985, 3, 14))
    ref = "0123456789abcdef0123456789abcdef"
    replies = [guess(session, f"A{8000 + i}", "01/01/1990", client_ref=ref)[1]
               for i in range(10)]
    assert all("doesn't match" in r for r in replies[:9])
    assert "paused for a while" in replies[9]
    chat = VerifyChat.web(session, SETTINGS, NOW, ref)
    assert "paused for a while" in chat.start()
    assert locked_accounts(session, NOW) == []  # ten accounts, one failure each
    # Another address (or none) is not held up by it.
    assert guess(session, "A7000", "03/14/1985")[0].verified_patient() is not None
