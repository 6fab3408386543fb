"""A turn the gateway marked Spanish (metadata lang=es) answers in Spanish: the clinic's FAQ
from clinic/faq/es.yml, and explain my bill in the Spanish explain.* sentences."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import templates as t
from actions.base import Turn
from actions.faq import AnswerFaq
from billing.accounts import load_snapshot
from billing.core.balances import compute_balance
from billing.core.explanation import explain
from clinic import wording
from clinic.faq import load_faq
from clinic.settings import Settings
from tests.dialogue_factories import add_entry, add_patient

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def _faq_turn(lang: str | None) -> tuple[Turn, CollectingDispatcher]:
    message = {"text": "que es el deducible", "intent": {"name": "faq"},
               "response_selector": {"faq": {"response": {
                   "intent_response_key": "faq/deductible"}}}}
    if lang:
        message["metadata"] = {"lang": lang}
    tracker = Tracker("sms:+15551230000", {}, message, [], False, None, None, "action_listen")
    dispatcher = CollectingDispatcher()
    return Turn(dispatcher, tracker, None, Settings(), NOW), dispatcher  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["es", "en", None])
def test_the_faq_answer_comes_from_the_file_of_the_turns_language(lang):
    turn, dispatcher = _faq_turn(lang)
    with wording.speaking(turn.lang):
        AnswerFaq().respond(turn)
    expected = load_faq(Settings().faq_dir, lang or "en").answers["deductible"]
    said = [m["text"] for m in dispatcher.messages]
    assert said[0] == expected.text
    assert said[1] == wording.text("faq.offer.insurance_coverage", lang or "en")
    assert ("deducible" in said[0]) == (lang == "es")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_explain_my_bill_in_a_spanish_turn_uses_the_spanish_sentences(engine):
    with Session(engine) as s, s.begin():
        p = add_patient(s, phone="+15551230000")
        add_entry(s, p, "charge", 250_00, claim_status="self_pay", due_date=date(2026, 4, 1),
                  description="Consulta")
        add_entry(s, p, "patient_payment", 40_00, posted_date=date(2026, 2, 1))
        snapshot = load_snapshot(s, p.id)
    balance = compute_balance(snapshot.items)
    with wording.speaking("es"):
        lines = t.explain_bill(balance.due_now, [e.text for e in explain(balance, snapshot.items)],
                               0)
    joined = "\n".join(lines)
    assert joined.startswith("Así se formó su saldo de $210.00, visita por visita:")
    assert "el cargo fue de $250.00." in joined
    assert "Usted pagó $40.00 el 1 de febrero de 2026." in joined
    assert "Falta pagar: $210.00, a más tardar el 1 de abril de 2026." in joined
    assert lines[-1] == wording.text("explain.offer_human", "es")
