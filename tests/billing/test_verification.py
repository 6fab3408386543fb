"""Verification state of a sender: matching, failure counting, locking and idle expiry."""
from datetime import UTC, date, datetime, timedelta

import pytest

from billing.verification import (
    ChannelIdentity,
    VerificationLocked,
    channel_identity,
    current_verified_patient,
    end_verification,
    find_account_number,
    link_telegram_chat,
    locked_until,
    patient_for_account,
    patients_on_channel,
    record_failure,
    record_success,
    with_birth_date,
    with_first_name,
)
from tests.dialogue_factories import add_patient

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
SMS = "sms:+15551230000"


def test_sender_key_gives_the_channel_and_only_wellformed_identities():
    assert channel_identity("sms:+15551230000") == ChannelIdentity("sms", "+15551230000")
    assert channel_identity("tg:42").channel == "telegram"
    assert channel_identity("web:abc").channel == "web"
    assert channel_identity("sms:hello").channel == "unknown"
    assert channel_identity("+15551230000").channel == "unknown"
    assert channel_identity("tg:12x").channel == "unknown"


def test_unknown_sender_is_not_verified(session):
    assert current_verified_patient(session, SMS, NOW) is None


def test_success_verifies_until_idle_expiry(session):
    p = add_patient(session, phone="+15551230000")
    record_success(session, SMS, p.id, NOW)
    assert current_verified_patient(session, SMS, NOW + timedelta(minutes=20)) == p.id
    # seen at +20: the idle window slides
    assert current_verified_patient(session, SMS, NOW + timedelta(minutes=45)) == p.id
    assert current_verified_patient(session, SMS, NOW + timedelta(minutes=80)) is None
    assert current_verified_patient(session, SMS, NOW + timedelta(minutes=81)) is None


def test_verification_belongs_to_one_sender(session):
    p = add_patient(session, phone="+15551230000")
    record_success(session, SMS, p.id, NOW)
    assert current_verified_patient(session, "web:abc", NOW) is None
    assert current_verified_patient(session, "sms:+15559990000", NOW) is None


def test_third_failure_locks_for_the_lock_period(session):
    assert record_failure(session, SMS, NOW, lock_minutes=30).failures == 1
    assert record_failure(session, SMS, NOW).locked_until is None
    outcome = record_failure(session, SMS, NOW, lock_minutes=30)
    assert outcome.failures == 3
    assert outcome.locked_until == NOW + timedelta(minutes=30)
    assert locked_until(session, SMS, NOW + timedelta(minutes=29)) is not None
    with pytest.raises(VerificationLocked):
        record_failure(session, SMS, NOW + timedelta(minutes=1))
    p = add_patient(session)
    with pytest.raises(VerificationLocked):
        record_success(session, SMS, p.id, NOW + timedelta(minutes=1))
    assert locked_until(session, SMS, NOW + timedelta(minutes=31)) is None
    assert record_failure(session, SMS, NOW + timedelta(minutes=31)).failures == 1


def test_a_lock_also_ends_an_earlier_verification(session):
    p = add_patient(session)
    record_success(session, SMS, p.id, NOW)
    record_failure(session, SMS, NOW)
    assert current_verified_patient(session, SMS, NOW) is None


def test_success_resets_the_failure_count(session):
    p = add_patient(session)
    record_failure(session, SMS, NOW)
    record_failure(session, SMS, NOW)
    record_success(session, SMS, p.id, NOW)
    assert record_failure(session, SMS, NOW).failures == 1


def test_end_verification_forgets_the_patient(session):
    p = add_patient(session)
    record_success(session, SMS, p.id, NOW)
    end_verification(session, SMS)
    assert current_verified_patient(session, SMS, NOW) is None


def test_family_on_one_number_is_told_apart_by_birth_date_then_name(session):
    mom = add_patient(session, first_name="Maria", dob=date(1985, 3, 14), phone="+15551230000")
    twin_a = add_patient(session, first_name="Leo", dob=date(2015, 7, 1), phone="+15551230000")
    twin_b = add_patient(session, first_name="Ana", dob=date(2015, 7, 1), phone="+15551230000")
    add_patient(session, first_name="Other", phone="+15550000000")
    family = patients_on_channel(session, channel_identity(SMS))
    assert {p.id for p in family} == {mom.id, twin_a.id, twin_b.id}
    assert [p.id for p in with_birth_date(family, date(1985, 3, 14))] == [mom.id]
    twins = with_birth_date(family, date(2015, 7, 1))
    assert len(twins) == 2
    assert [p.id for p in with_first_name(twins, "it's about ana please")] == [twin_b.id]
    assert with_first_name(twins, "maria") == []


def test_web_chat_has_no_patients_on_channel(session):
    add_patient(session, phone="+15551230000")
    assert patients_on_channel(session, channel_identity("web:+15551230000")) == []


def test_account_and_birth_date_must_both_agree(session):
    p = add_patient(session, account_number="A7000", dob=date(1985, 3, 14))
    assert patient_for_account(session, "a7000", date(1985, 3, 14)).id == p.id
    assert patient_for_account(session, "A7000", date(1985, 3, 15)) is None
    assert patient_for_account(session, "A7001", date(1985, 3, 14)) is None


def test_account_number_is_found_in_free_text():
    assert find_account_number("my acct is a1000 and dob 3/14/85") == "A1000"
    assert find_account_number("A-1000") == "A1000"
    assert find_account_number("3/14/85") is None


def test_telegram_chat_is_linked_after_verification(session):
    p = add_patient(session)
    ident = channel_identity("tg:987654")
    assert patients_on_channel(session, ident) == []
    link_telegram_chat(session, p.id, ident)
    session.flush()
    assert [x.id for x in patients_on_channel(session, ident)] == [p.id]
