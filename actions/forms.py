"""Helpers shared by the data-collecting forms: leaving a form early, cancel words, and a new
question asked in the middle of one."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions import templates as t
from actions.base import Turn
from actions.faq import say_answer

STOP_WORDS = {"stop", "cancel", "quit", "nevermind", "never mind", "forget it", "no thanks",
              "cancelar", "cancela", "olvidalo", "olvídalo", "ya no", "no gracias", "salir",
              "alto", "parar"}
SWITCH_CONFIDENCE = 0.6
FAQ_ACTION = "action_answer_faq"
# The action that answers each question a patient may ask at any point.
TOPIC_ACTIONS = {
    "check_balance": "action_check_balance",
    "explain_bill": "action_explain_bill",
    "dispute_charge": "action_dispute_charge",
    "refund_status": "action_refund_status",
    "payment_plan": "action_payment_plan",
    "make_payment": "action_make_payment",
    "insurance_coverage": "action_insurance_coverage",
    "request_statement": "action_request_statement",
    "financial_assistance": "action_financial_assistance",
    "update_insurance": "action_update_insurance",
    "request_human": "action_request_human",
    "goodbye": "action_goodbye",
    "faq": FAQ_ACTION,
}


def wants_to_stop(turn: Turn) -> bool:
    """True when the whole message is a stop phrase such as "stop", "cancel" or "never mind" (case
    and a trailing "." or "!" ignored)."""
    return turn.text.strip().lower().strip(".!") in STOP_WORDS


SHORT_ANSWER_WORDS = 5


def is_short_answer(turn: Turn) -> bool:
    """A reply short enough to be read as the answer to the question asked ("2000", "about 3k a
    month"), whatever intent the model gives it; a longer message is a question of its own."""
    return len(turn.text.split()) <= SHORT_ANSWER_WORDS


def new_topic(turn: Turn, own: str) -> str | None:
    """The action for a new question asked in the middle of a form (a confident prediction of
    another topic than the form's own action `own`), or None."""
    if turn.confidence < SWITCH_CONFIDENCE:
        return None
    action = TOPIC_ACTIONS.get(turn.intent)
    return action if action and action != own else None


def leave_form(turn: Turn, slots: tuple[str, ...], then: str | None) -> list[dict[str, Any]]:
    """End the active form now; its finishing action runs `then` (or nothing)."""
    if then is None:
        turn.say(t.cancelled())
    return [*(SlotSet(s, "n/a") for s in slots), SlotSet("escape_to", then),
            SlotSet("requested_slot", None)]


def switch_topic(turn: Turn, slots: tuple[str, ...], action: str, requested: str,
                 ask_again: str | list[str]) -> list[dict[str, Any]]:
    """A new question mid-form: a general question (FAQ) is answered and the form goes on with
    its question asked again; any other ends the form cleanly and is answered."""
    if action == FAQ_ACTION:
        say_answer(turn)
        turn.say(ask_again)
        return [SlotSet(requested, None), SlotSet("escape_to", None)]
    return leave_form(turn, slots, action)
