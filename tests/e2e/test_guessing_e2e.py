"""Guessing a date of birth against one account, end to end on the trained model and the real
action server: ten web sessions (each a fresh failure count of its own) lock the account after
VERIFICATION_ACCOUNT_MAX_FAILURES (5 by default), after which the right date discloses
nothing; SMS and web failures count together; a made-up account number is answered in the
same words."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from billing.db.models import AuditLog
from tests.e2e.clinic import MARIA, PRIYA, SINGLE_PHONE
from tests.e2e.expected import us, verified_patient_of

pytestmark = pytest.mark.e2e
MONEY = re.compile(r"\$\d")
LOCKED = "I can't verify anyone for this account right now"


def guess(assistant, account: str, dob: str):
    chat = assistant.web()
    chat.say("what's my balance")
    return chat, chat.say(f"{account} {dob}")


def test_ten_web_sessions_lock_the_account_and_the_right_date_then_discloses_nothing(assistant):
    replies = [guess(assistant, PRIYA[0], f"01/{day:02d}/1991")[1] for day in range(1, 11)]
    assert all("doesn't match" in r for r in replies[:4])
    assert all(LOCKED in r for r in replies[4:])
    chat, reply = guess(assistant, PRIYA[0], us(PRIYA[1]))
    assert LOCKED in reply and "Priya" not in reply and not MONEY.search(reply)
    reply = chat.say("how much is my credit")
    assert not MONEY.search(reply) and "Priya" not in reply
    with assistant.db() as s:
        assert verified_patient_of(s, chat.sender) is None
        assert s.scalars(select(AuditLog.action).where(
            AuditLog.action == "verification_account_locked")).all() == [
                "verification_account_locked"]


def test_sms_and_web_failures_against_one_account_count_together(assistant):
    sms = assistant.sms(SINGLE_PHONE)
    sms.say("what's my balance")
    assert "doesn't match" in sms.say("01/01/1990")
    assert "doesn't match" in sms.say("01/02/1990")  # two by SMS, still unlocked there
    replies = [guess(assistant, MARIA[0], f"02/{day:02d}/1990")[1] for day in (1, 2, 3)]
    assert "doesn't match" in replies[1] and LOCKED in replies[2]
    reply = sms.say(us(MARIA[1]))  # the right date, on her own phone
    assert LOCKED in reply and "Maria" not in reply and not MONEY.search(reply)
    with assistant.db() as s:
        assert verified_patient_of(s, sms.sender) is None


def test_a_made_up_account_number_gets_the_same_replies(assistant):
    real = [guess(assistant, PRIYA[0], f"03/{day:02d}/1991")[1] for day in range(1, 7)]
    made_up = [guess(assistant, "A9876", f"03/{day:02d}/1991")[1] for day in range(1, 7)]
    assert made_up == real
