"""The language of one turn, decided by the gateway before anything answers: the language
billbot replies in (the conversation's, billing.languages' rule) and the language of the
model that reads the message (the message's own, when it is plainly another: a Spanish
conversation's English question is understood by the English model and answered in Spanish).
A switch (ESPAÑOL, ENGLISH) is stored, and applied to the patient's record once verified."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from billing.accounts import find_by_phone, find_by_telegram_chat
from billing.db.models import Patient, Verification
from billing.languages import service as languages
from billing.languages.enums import LanguageSource
from billing.verification import channel_identity
from bot.language_detection import detect, switch_request, words

# A message of fewer words says too little to leave the conversation's own model.
MIN_WORDS_FOR_OTHER_MODEL = 3


@dataclass(frozen=True)
class TurnLanguage:
    reply: str  # what billbot writes in
    model: str  # which language's model reads the message
    switched: bool = False  # the message was a switch: it is answered by the gateway


def verified_patient(session: Session, sender_key: str, now: datetime,
                     idle_minutes: int) -> Patient | None:
    """The patient this sender is verified as (read only: the actions keep the expiry)."""
    row = session.scalar(select(Verification).where(Verification.sender_key == sender_key))
    if row is None or row.patient_id is None or row.verified_at is None:
        return None
    seen = row.last_seen_at or row.verified_at
    if now - seen > timedelta(minutes=idle_minutes):
        return None
    return session.get(Patient, row.patient_id)


def known_patients(session: Session, sender_key: str, now: datetime,
                   idle_minutes: int) -> list[Patient]:
    """The patients this sender is known to be: the verified one, else those on its phone or
    Telegram chat (a web session is known only once verified)."""
    patient = verified_patient(session, sender_key, now, idle_minutes)
    if patient is not None:
        return [patient]
    identity = channel_identity(sender_key)
    if identity.channel == "sms":
        return find_by_phone(session, identity.user)
    if identity.channel == "telegram":
        return find_by_telegram_chat(session, int(identity.user))
    return []


def decide(engine: Engine, sender_key: str, text: str, now: datetime, *,
           idle_minutes: int = 30, models: frozenset[str] = frozenset({"en"})) -> TurnLanguage:
    """This turn's languages (module docstring); stores what it chose. One transaction."""
    with Session(engine) as session, session.begin():
        asked = switch_request(text)
        if asked is not None:
            languages.remember(session, sender_key, asked, LanguageSource.SWITCH, now)
            patient = verified_patient(session, sender_key, now, idle_minutes)
            if patient is not None:
                languages.set_patient_language(session, patient.id, asked, actor="patient",
                                               now=now)
            return TurnLanguage(asked, asked, switched=True)
        row = languages.stored(session, sender_key)
        detected = detect(text)
        patients = [] if row is not None else known_patients(session, sender_key, now,
                                                             idle_minutes)
        chosen = languages.choose(row, patients, detected)
        if chosen.source is not None:
            languages.remember(session, sender_key, chosen.lang, chosen.source, now)
        model = chosen.lang
        if (detected is not None and detected != chosen.lang and detected in models
                and len(words(text)) >= MIN_WORDS_FOR_OTHER_MODEL):
            model = detected
        if model not in models:
            model = "en"
        return TurnLanguage(chosen.lang, model)


def conversation_language(engine: Engine, sender_key: str) -> str:
    """The stored language of a conversation (English when none): for the console, the
    representatives' notices and anything the gateway sends later in it."""
    with Session(engine) as session:
        row = languages.stored(session, sender_key)
        return row.lang if row is not None else "en"
