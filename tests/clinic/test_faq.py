"""The clinic's FAQ file: every topic the model knows has an answer, offers are actions the
dialogue can take, and a broken file is refused with where and why."""
from __future__ import annotations

import re
from datetime import date

import pytest

from actions.conversation import OFFERS as YES_ACCEPTS
from actions.faq import OFFER_PREFIX
from clinic.faq import OFFERS, TOPICS, FaqFileError, load_faq, parse_faq
from clinic.settings import Settings


def test_the_default_answers_cover_every_topic_and_are_dated():
    faq = load_faq(Settings().faq_dir)
    assert set(faq.answers) == set(TOPICS)
    assert faq.reviewed >= date(2026, 1, 1)  # dated, and reviewed this year or later
    for answer in faq.answers.values():
        assert 80 <= len(answer.text) <= 520, answer.topic  # two or three text messages
        assert "$" not in answer.text or answer.topic in ("deductible", "copay_coinsurance",
                                                          "good_faith_estimate",
                                                          "collections_credit")


def test_every_offer_is_something_a_yes_can_accept():
    for offer in OFFERS:
        assert OFFER_PREFIX + offer in YES_ACCEPTS


def test_the_spanish_answers_cover_the_same_topics_and_offers_as_the_english():
    english, spanish = load_faq(Settings().faq_dir), load_faq(Settings().faq_dir, "es")
    assert spanish.language == "es" and set(spanish.answers) == set(TOPICS)
    for topic, answer in spanish.answers.items():
        assert 80 <= len(answer.text) <= 520, topic
        assert answer.offer == english.answers[topic].offer, topic
        # the same facts: every figure of the English answer (days, dollars, percents) is there
        assert re.findall(r"\d[\d,]*", answer.text) == re.findall(
            r"\d[\d,]*", english.answers[topic].text), topic


def test_a_language_without_a_file_falls_back_to_english():
    assert load_faq(Settings().faq_dir, "fr").language == "en"


@pytest.mark.parametrize("raw, reason", [
    ({"reviewed": date(2026, 1, 1)}, "needs an 'answers' mapping"),
    ({"reviewed": "soon", "answers": {}}, "'reviewed' must be a date"),
    ({"reviewed": date(2026, 1, 1), "answers": {"parking": {"text": "x"}}}, "unknown topic"),
    ({"reviewed": date(2026, 1, 1), "answers": {"eob": {"text": " "}}}, "eob: the answer text"),
    ({"reviewed": date(2026, 1, 1), "answers": {"eob": {"text": "An EOB...", "offer": "x"}}},
     "offer must be one of"),
    ({"reviewed": date(2026, 1, 1), "answers": {"eob": {"text": "An EOB..."}}}, "no answer for"),
])
def test_a_broken_file_is_refused_with_the_reason(raw, reason):
    with pytest.raises(FaqFileError, match=reason):
        parse_faq(raw, "faq/en.yml")
