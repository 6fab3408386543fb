"""Verification limits beyond one sender (billing/verification.py counts per sender): failed
attempts against one account from any senders and channels, and from one web client address,
counted in the database so every Rasa instance sees them. An account number that is not on
file is counted and locked exactly like one that is, so the replies never tell them apart."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from billing import audit, throttle
from billing.accounts import find_by_account_number
from billing.throttle import Limit

ACCOUNT = "verify_account:"
ADDRESS = "verify_address:"


@dataclass(frozen=True)
class Limits:
    account: Limit
    address: Limit


@dataclass(frozen=True)
class LockedAccount:
    account_number: str
    patient_id: int | None  # None: no such account (someone guessed a number)
    failures: int
    locked_at: datetime | None
    locked_until: datetime


@dataclass(frozen=True)
class FailureCounted:
    accounts_locked: list[str]  # account numbers this failure locked
    address_locked: bool


def normalise(account_number: str) -> str:
    """Account number without dashes or outer spaces, upper-cased, so "ab-12" matches "AB12"."""
    return account_number.replace("-", "").strip().upper()


def account_key(account_number: str) -> str:
    """Throttle key that counts failed verifications against one account number."""
    return ACCOUNT + normalise(account_number)


def address_key(client_ref: str) -> str:
    """Throttle key that counts failed verifications from one client address."""
    return ADDRESS + client_ref


def account_locked(session: Session, account_numbers: Iterable[str], now: datetime) -> bool:
    """Whether any of these accounts may not be verified now."""
    return any(throttle.locked_until(session, account_key(n), now) is not None
               for n in account_numbers)


def address_locked(session: Session, client_ref: str | None, now: datetime) -> bool:
    """True when this client address is locked out of verification now; False without an address."""
    return bool(client_ref) and throttle.locked_until(
        session, address_key(client_ref), now) is not None


def count_failure(session: Session, *, account_numbers: Iterable[str], client_ref: str | None,
                  limits: Limits, now: datetime, channel: str) -> FailureCounted:
    """Count one failed attempt against each account it could have matched and against the
    client address; each account lock placed now is written to the audit log."""
    locked: list[str] = []
    for number in dict.fromkeys(normalise(n) for n in account_numbers):
        try:
            hit = throttle.hit(session, account_key(number), limits.account, now)
        except throttle.Throttled:
            continue
        if hit.just_locked:
            locked.append(number)
            patient = find_by_account_number(session, number)
            audit.record(session, "bot", "verification_account_locked",
                         patient.id if patient else None, at=now, channel=channel,
                         failures=hit.count, until=hit.locked_until.isoformat())
    address = False
    if client_ref:
        try:
            address = throttle.hit(session, address_key(client_ref), limits.address,
                                   now).just_locked
        except throttle.Throttled:
            address = True
    return FailureCounted(locked, address)


def locked_accounts(session: Session, now: datetime) -> list[LockedAccount]:
    """Accounts whose verification is locked now, for the representatives' console."""
    out = []
    for lock in throttle.active_locks(session, ACCOUNT, now):
        number = lock.key.removeprefix(ACCOUNT)
        patient = find_by_account_number(session, number)
        out.append(LockedAccount(number, patient.id if patient else None, lock.count,
                                 lock.locked_at, lock.locked_until))
    return out


def lift_account_lock(session: Session, account_number: str, *, actor: str,
                      now: datetime) -> bool:
    """A representative lifts an account's lock (and its count); audited. False: not locked."""
    number = normalise(account_number)
    if not throttle.clear(session, account_key(number)):
        return False
    patient = find_by_account_number(session, number)
    audit.record(session, actor, "lift_verification_lock", patient.id if patient else None,
                 at=now, kind="account")
    return True
