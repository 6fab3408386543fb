"""patients.csv's optional mailing address and email consent: validated (a US state code, a
5 or 9 digit ZIP, a whole address or none), all-or-nothing, and a column left out keeps what
is stored."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from billing.db.models import Patient
from billing.importer import ImportFailed, import_sources, source_from_text

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HEAD = ("account_number,first_name,last_name,date_of_birth,phone,email,telegram_chat_id,"
        "timezone,preferred_channel,sms_consent")
ROW = "A1,Rosa,Diaz,1975-05-05,+15035550100,rosa@example.org,,America/Los_Angeles"


def _import(session, text: str):
    report = import_sources(session, [source_from_text("patients.csv", text)], now=NOW)
    session.flush()
    return report


def _patient(session) -> Patient:
    return session.scalars(select(Patient).where(Patient.account_number == "A1")).one()


def test_an_address_is_stored_normalised_and_feeds_the_state(session):
    _import(session, f"{HEAD},address_line1,address_line2,city,state,zip,email_consent\n"
                     f"{ROW},email,no,12 Oak St,Apt 4,Portland,or,972011234,\n")
    p = _patient(session)
    assert (p.address_line1, p.address_line2, p.city, p.state, p.zip) == (
        "12 Oak St", "Apt 4", "Portland", "OR", "97201-1234")
    assert p.email_consent and p.email_consent_at == NOW  # email preferred: consent
    # A file without the address columns keeps the stored address.
    _import(session, f"{HEAD}\n{ROW},email,no\n")
    assert _patient(session).zip == "97201-1234"
    # email_consent=no is recorded (and its time cleared).
    _import(session, f"{HEAD},email_consent\n{ROW},email,no,no\n")
    p = _patient(session)
    assert not p.email_consent and p.email_consent_at is None


@pytest.mark.parametrize(("cells", "reason"), [
    ("12 Oak St,,Portland,XX,97201", "state 'XX' is not a US state code"),
    ("12 Oak St,,Portland,OR,9720", "zip '9720' is not a 5 or 9 digit ZIP code"),
    ("12 Oak St,,Portland,OR,97201-12", "zip '97201-12' is not a 5 or 9 digit ZIP code"),
    ("12 Oak St,,,OR,97201", "an address needs city too"),
    (",,Portland,,97201", "an address needs address_line1, state too"),
])
def test_a_bad_address_rejects_the_import_and_writes_nothing(session, cells, reason):
    with pytest.raises(ImportFailed) as err:
        _import(session, f"{HEAD},address_line1,address_line2,city,state,zip\n"
                         f"{ROW},sms,yes,{cells}\n")
    assert reason in str(err.value.errors[0])
    assert session.scalars(select(Patient)).first() is None


def test_a_state_alone_is_kept_for_the_quiet_hours(session):
    _import(session, f"{HEAD},state\n{ROW},sms,yes,fl\n")
    assert _patient(session).state == "FL" and _patient(session).zip is None
