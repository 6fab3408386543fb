"""The clinic's answers to general billing questions (clinic/faq/<language>.yml): one text per
topic, and optionally the patient's own figure to offer after it. Read once per process and
checked whole: a file missing a topic, or with an empty answer, is refused with where and why."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

# The retrieval intents faq/<topic> the model knows (data/nlu/faq.yml, docs/intents.md).
TOPICS = (
    "deductible", "copay_coinsurance", "out_of_pocket_max", "eob", "contractual_adjustment",
    "two_bills", "observation_status", "good_faith_estimate", "denied_claim",
    "collections_credit", "missed_plan_payment", "itemized_bill_right",
    "financial_assistance_policy",
)
# What an answer may offer next (each one an action that verifies the patient first).
OFFERS = ("insurance_coverage", "payment_plan", "request_statement", "financial_assistance",
          "check_balance")
DEFAULT_LANGUAGE = "en"


class FaqFileError(ValueError):
    """An FAQ file that cannot be used."""


@dataclass(frozen=True)
class FaqAnswer:
    topic: str
    text: str
    offer: str | None  # one of OFFERS, or None


@dataclass(frozen=True)
class FaqAnswers:
    language: str
    reviewed: date
    answers: dict[str, FaqAnswer]

    def get(self, topic: str) -> FaqAnswer | None:
        return self.answers.get(topic)


def parse_faq(raw: object, source: str) -> FaqAnswers:
    """Check and read one language's FAQ file content."""
    if not isinstance(raw, dict) or not isinstance(raw.get("answers"), dict):
        raise FaqFileError(f"{source}: needs an 'answers' mapping of topic -> text")
    reviewed = raw.get("reviewed")
    if not isinstance(reviewed, date):
        raise FaqFileError(f"{source}: 'reviewed' must be a date (YYYY-MM-DD)")
    answers: dict[str, FaqAnswer] = {}
    for topic, entry in raw["answers"].items():
        if topic not in TOPICS:
            raise FaqFileError(f"{source}: unknown topic {topic!r} (known: {', '.join(TOPICS)})")
        text = entry.get("text") if isinstance(entry, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise FaqFileError(f"{source}: {topic}: the answer text is empty")
        offer = entry.get("offer")
        if offer is not None and offer not in OFFERS:
            raise FaqFileError(f"{source}: {topic}: offer must be one of {', '.join(OFFERS)}")
        answers[topic] = FaqAnswer(topic, " ".join(text.split()), offer)
    missing = [t for t in TOPICS if t not in answers]
    if missing:
        raise FaqFileError(f"{source}: no answer for {', '.join(missing)}")
    return FaqAnswers(str(raw.get("language") or DEFAULT_LANGUAGE), reviewed, answers)


@lru_cache(maxsize=8)
def load_faq(directory: str, language: str = DEFAULT_LANGUAGE) -> FaqAnswers:
    """The answers in `language` (clinic/faq/<language>.yml), English when there is no file for
    that language."""
    path = Path(directory) / f"{language}.yml"
    if not path.is_file():
        path = Path(directory) / f"{DEFAULT_LANGUAGE}.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FaqFileError(f"{path}: cannot be read: {exc}") from exc
    return parse_faq(raw, str(path))
