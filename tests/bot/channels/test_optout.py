"""Which texts opt out, opt in, or ask for HELP, and which go to the assistant."""
from __future__ import annotations

import pytest

from bot.optout import OPT_OUT_WORDS, Consent, classify

WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT", "CANCEL"]


def test_the_word_list_is_the_one_the_issue_names():
    assert {w.lower() for w in WORDS} == OPT_OUT_WORDS


@pytest.mark.parametrize("word", WORDS)
@pytest.mark.parametrize("form", ["{}", "{}!", " {} ", "{}.", "please {}", "{} please", "{} now"])
@pytest.mark.parametrize("case", [str.upper, str.lower, str.capitalize])
def test_every_opt_out_word_in_any_case(word, form, case):
    assert classify(form.format(case(word))) is Consent.OPT_OUT


@pytest.mark.parametrize("text", [
    "stop texting me", "opt out please", "please don't text me anymore",
    "remove me from your list", "Stop sending me these messages", "no more texts",
    "I want to unsubscribe", "Please stop contacting me", "I revoke my consent",
    "Don't message me again", "quit texting me", "take me off the list", "opt-out",
    "Stop the reminders", "cancel my text reminders", "do not text me", "stop all texts",
    "Please STOP messaging me!!", "how do I opt out?",
])
def test_plain_language_revocations(text):
    assert classify(text) is Consent.OPT_OUT


@pytest.mark.parametrize("text", [
    "I want to stop my payment plan", "cancel my appointment", "cancel the plan please",
    "Can I opt out of the payment plan?", "I don't want to opt out", "don't stop",
    "what is my balance", "when does it end?", "help me with my bill", "stop by the office",
    "my insurance was cancelled", "I will stop paying if this is wrong",
])
def test_other_sentences_are_not_revocations(text):
    assert classify(text) is None


@pytest.mark.parametrize("word", ["START", "start", "Unstop", "UNSTOP", "start please"])
def test_start_and_unstop_resubscribe(word):
    assert classify(word) is Consent.OPT_IN
    assert classify(word, opted_out=True) is Consent.OPT_IN


def test_yes_resubscribes_only_an_opted_out_number():
    assert classify("YES", opted_out=True) is Consent.OPT_IN
    assert classify("yes") is None  # an answer to the assistant's question


@pytest.mark.parametrize("word", ["HELP", "help", "Info", "INFO", "help!"])
def test_help_and_info(word):
    assert classify(word) is Consent.HELP
