"""How a conversation's language was chosen."""
from __future__ import annotations

from enum import StrEnum


class LanguageSource(StrEnum):
    PATIENT = "patient"  # the stored language of the patient(s) on this channel identity
    DETECTED = "detected"  # the language the patient wrote in
    SWITCH = "switch"  # the patient asked for it (ESPAÑOL, ENGLISH): kept until the next switch


SUPPORTED = ("en", "es")
DEFAULT = "en"
# What staff see (the console, escalation notices): the language's name in English.
NAMES = {"en": "English", "es": "Spanish"}
