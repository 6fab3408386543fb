"""Small builders for test data: a patient with a ledger, written straight to the tables."""
from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.orm import Session

from billing.db.models import LedgerEntry, Patient

_seq = itertools.count(1)


def add_patient(
    session: Session,
    *,
    account_number: str | None = None,
    first_name: str = "Maria",
    last_name: str = "Lopez",
    dob: date = date(1985, 3, 14),
    phone: str | None = None,
    telegram_chat_id: int | None = None,
) -> Patient:
    patient = Patient(
        account_number=account_number or f"T{next(_seq):05d}",
        first_name=first_name,
        last_name=last_name,
        date_of_birth=dob,
        phone=phone,
        telegram_chat_id=telegram_chat_id,
    )
    session.add(patient)
    session.flush()
    return patient


def add_entry(session: Session, patient: Patient, type_: str, amount: int, **kw) -> LedgerEntry:
    entry = LedgerEntry(
        entry_id=kw.pop("entry_id", f"E{next(_seq):06d}"),
        patient_id=patient.id,
        type=type_,
        amount_cents=amount,
        posted_date=kw.pop("posted_date", date(2025, 1, 10)),
        **kw,
    )
    session.add(entry)
    session.flush()
    return entry
