"""Reading and writing the conversation's language, and the patient's stored language.

The rule (docs/channels.md, "Languages"): a conversation the patient switched keeps that
language until the next switch; a conversation in Spanish stays in Spanish; otherwise the
patients on a known channel identity give their stored language, and a message plainly
written in Spanish moves an English conversation to Spanish. The patient's record changes
only through an explicit switch, and only once the sender is verified.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit
from billing.db.models import Patient
from billing.languages.enums import DEFAULT, SUPPORTED, LanguageSource
from billing.languages.models import ConversationLanguage


@dataclass(frozen=True)
class Chosen:
    lang: str
    source: LanguageSource | None  # None: nothing stored or known yet (English by default)


def supported(lang: str | None) -> str | None:
    """lang when billbot writes it ('es-MX' -> 'es'), else None."""
    code = (lang or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in SUPPORTED else None


def stored(session: Session, sender_key: str) -> ConversationLanguage | None:
    """The conversation's stored language row, if any."""
    return session.scalar(
        select(ConversationLanguage).where(ConversationLanguage.sender_key == sender_key))


def conversation_languages(session: Session, sender_keys: list[str]) -> dict[str, str]:
    """Each conversation's language code ('es'); English for one with nothing stored."""
    rows = session.execute(select(ConversationLanguage.sender_key, ConversationLanguage.lang)
                           .where(ConversationLanguage.sender_key.in_(set(sender_keys)))).all()
    found = {key: lang for key, lang in rows}
    return {key: found.get(key, DEFAULT) for key in sender_keys}


def patients_language(patients: list[Patient]) -> str | None:
    """The language the patients on one phone or chat share, or None (none, or mixed)."""
    langs = {supported(p.language) or DEFAULT for p in patients}
    return langs.pop() if len(langs) == 1 else None


def choose(row: ConversationLanguage | None, patients: list[Patient],
           detected: str | None) -> Chosen:
    """The language of this turn (the rule in the module docstring); detected: the message's
    language, None when it is too short or mixed to tell."""
    if row is not None and (row.source == LanguageSource.SWITCH or row.lang != DEFAULT):
        return Chosen(row.lang, row.source)
    if detected is not None and detected != DEFAULT:
        return Chosen(detected, LanguageSource.DETECTED)
    if row is not None:
        return Chosen(row.lang, row.source)
    on_file = patients_language(patients)
    if on_file is not None:
        return Chosen(on_file, LanguageSource.PATIENT)
    return Chosen(DEFAULT, None)


def remember(session: Session, sender_key: str, lang: str, source: LanguageSource,
             now: datetime) -> None:
    """Store the conversation's language (the caller commits)."""
    row = stored(session, sender_key)
    if row is None:
        session.add(ConversationLanguage(sender_key=sender_key, lang=lang, source=source,
                                         updated_at=now))
    elif (row.lang, row.source) != (lang, source):
        row.lang, row.source, row.updated_at = lang, source, now


def set_patient_language(session: Session, patient_id: int, lang: str, *, actor: str,
                         now: datetime) -> bool:
    """The one writer of a patient's stored language; True when it changed (audited)."""
    code = supported(lang)
    patient = session.get(Patient, patient_id)
    if code is None or patient is None or patient.language == code:
        return False
    patient.language = code
    audit.record(session, actor, "set_language", patient_id, at=now, lang=code)
    return True


def adopt_switch(session: Session, sender_key: str, patient_id: int, now: datetime) -> bool:
    """After verification: a language the patient switched to becomes their stored one."""
    row = stored(session, sender_key)
    if row is None or row.source != LanguageSource.SWITCH:
        return False
    return set_patient_language(session, patient_id, row.lang, actor="patient", now=now)
