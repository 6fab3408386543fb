"""Facts the assistant should state, computed here from the database with the billing core."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import AccountSnapshot, find_by_account_number, load_snapshot
from billing.core.balances import Balance, compute_balance
from billing.db.models import Verification


def snapshot(session: Session, account_number: str) -> AccountSnapshot:
    return load_snapshot(session, find_by_account_number(session, account_number).id)


def balance(session: Session, account_number: str) -> Balance:
    return compute_balance(snapshot(session, account_number).items)


def day(value: date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def verified_patient_of(session: Session, sender: str) -> int | None:
    row = session.scalars(select(Verification).where(Verification.sender_key == sender)).first()
    return row.patient_id if row and row.verified_at else None


def us(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}"
