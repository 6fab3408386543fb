"""Identity verification of a sender (a channel identity such as 'sms:+15551234567'): who may
hear about which account. Only the verification action writes this state; every action that
discloses account data asks current_verified_patient() again itself."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import find_by_account_number, find_by_phone, find_by_telegram_chat
from billing.core.sender_key import BadSenderKey, SenderKey
from billing.db.models import Patient, Verification

MAX_FAILURES = 3
# The channels whose users verification knows how to link to a patient (or, web, not).
LINKED_CHANNELS = frozenset({"sms", "telegram", "web"})
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ACCOUNT = re.compile(r"\b([A-Za-z]{1,3}-?\d{3,10})\b")


class VerificationLocked(Exception):
    """Too many failed attempts: this sender may not try again before `until`."""

    def __init__(self, until: datetime):
        super().__init__(f"verification locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class ChannelIdentity:
    """Where a conversation comes from, read from the gateway-built sender key only."""

    channel: str  # sms | telegram | web | unknown
    user: str


@dataclass(frozen=True)
class FailureOutcome:
    failures: int
    locked_until: datetime | None


def channel_identity(sender_key: str) -> ChannelIdentity:
    """'sms:+1555...' -> sms/+1555...; 'tg:123' -> telegram/123; anything else is unlinked."""
    try:
        key = SenderKey.parse(sender_key)
    except BadSenderKey:
        return ChannelIdentity("unknown", "")
    user = key.user
    # Only the gateway's own spelling links ('telegram:1' is not a Telegram chat).
    canonical = str(key) == sender_key
    channel = key.channel if canonical and key.channel in LINKED_CHANNELS else "unknown"
    if channel == "sms" and not _E164.match(user):
        channel = "unknown"
    if channel == "telegram" and not user.lstrip("-").isdigit():
        channel = "unknown"
    return ChannelIdentity(channel, user)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC)


def _row(session: Session, sender_key: str, *, create: bool = False) -> Verification | None:
    row = session.scalars(
        select(Verification).where(Verification.sender_key == sender_key)
    ).first()
    if row is None and create:
        row = Verification(sender_key=sender_key, failures=0)
        session.add(row)
        session.flush()
    return row


def locked_until(session: Session, sender_key: str, now: datetime) -> datetime | None:
    """The end of this sender's lock, or None when it may try to verify."""
    row = _row(session, sender_key)
    if row is None or row.locked_until is None:
        return None
    return row.locked_until if row.locked_until > _utc(now) else None


def current_verified_patient(
    session: Session, sender_key: str, now: datetime, *, idle_minutes: int = 30
) -> int | None:
    """The patient this sender proved to be, if still fresh; marks the sender as seen.

    The caller commits (last_seen_at slides the idle expiry forward).
    """
    row = _row(session, sender_key)
    if row is None or row.patient_id is None or row.verified_at is None:
        return None
    at = _utc(now)
    if row.locked_until is not None and row.locked_until > at:
        return None
    seen = row.last_seen_at or row.verified_at
    if at - seen > timedelta(minutes=idle_minutes):
        row.patient_id = None
        row.verified_at = None
        return None
    row.last_seen_at = at
    return row.patient_id


def record_success(session: Session, sender_key: str, patient_id: int, now: datetime) -> None:
    """Marks this sender verified as the patient and clears its failures; raises VerificationLocked
    if still locked."""
    row = _row(session, sender_key, create=True)
    if row.locked_until is not None and row.locked_until > _utc(now):
        raise VerificationLocked(row.locked_until)
    at = _utc(now)
    row.patient_id = patient_id
    row.verified_at = at
    row.last_seen_at = at
    row.failures = 0
    row.locked_until = None


def record_failure(
    session: Session, sender_key: str, now: datetime, *, lock_minutes: int = 30
) -> FailureOutcome:
    """Count a failed attempt; the third in a row locks the sender for lock_minutes."""
    row = _row(session, sender_key, create=True)
    at = _utc(now)
    if row.locked_until is not None:
        if row.locked_until > at:
            raise VerificationLocked(row.locked_until)
        row.locked_until = None
        row.failures = 0  # an expired lock starts a fresh count
    row.patient_id = None
    row.verified_at = None
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.locked_until = at + timedelta(minutes=lock_minutes)
    return FailureOutcome(row.failures, row.locked_until)


def end_verification(session: Session, sender_key: str) -> None:
    """Forget who this sender is (a new conversation session starts unverified)."""
    row = _row(session, sender_key)
    if row is not None:
        row.patient_id = None
        row.verified_at = None


def patients_on_channel(session: Session, identity: ChannelIdentity) -> list[Patient]:
    """Patients reachable at this phone number or linked Telegram chat; web chat has none."""
    if identity.channel == "sms":
        return find_by_phone(session, identity.user)
    if identity.channel == "telegram":
        return find_by_telegram_chat(session, int(identity.user))
    return []


def with_birth_date(candidates: list[Patient], dob: date) -> list[Patient]:
    """Only the candidates whose date of birth is dob; empty when none matches."""
    return [p for p in candidates if p.date_of_birth == dob]


def with_first_name(candidates: list[Patient], text: str) -> list[Patient]:
    """Patients whose first name is a word of text (case and accents of typing aside)."""
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)?", text or "")}
    return [p for p in candidates if p.first_name.strip().casefold() in words]


def find_account_number(text: str) -> str | None:
    """An account-number-looking token in free text ('A1000', 'acct a-1000')."""
    match = _ACCOUNT.search(text or "")
    return match.group(1).replace("-", "").upper() if match else None


def patient_for_account(session: Session, account_number: str, dob: date) -> Patient | None:
    """The patient when account number AND date of birth agree; None otherwise (say no more)."""
    patient = find_by_account_number(session, account_number)
    if patient is None or patient.date_of_birth != dob:
        return None
    return patient


def link_telegram_chat(session: Session, patient_id: int, identity: ChannelIdentity) -> None:
    """After a verified Telegram conversation, the chat acts like a phone number on file."""
    if identity.channel != "telegram":
        return
    patient = session.get(Patient, patient_id)
    if patient is not None and patient.telegram_chat_id is None:
        patient.telegram_chat_id = int(identity.user)
