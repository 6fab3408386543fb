"""General billing questions (deductible, EOB, two bills, collections...): Rasa's
ResponseSelector picks the topic (retrieval intents faq/<topic>), the clinic's FAQ file
(clinic/faq/) has the answer. No verification: nothing from the account is said; where the
patient's own figure follows naturally, it is offered, and that answer verifies first."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions import templates as t
from actions.base import BillbotAction, Turn
from clinic.faq import FaqAnswer, load_faq

RETRIEVAL_INTENT = "faq"
OFFER_PREFIX = "faq:"  # the `offer` slot after an answer: "faq:insurance_coverage"


def faq_topic(turn: Turn) -> str | None:
    """The topic the ResponseSelector chose for this message ('deductible'), or None."""
    selector = turn.tracker.latest_message.get("response_selector")
    chosen = selector.get(RETRIEVAL_INTENT) if isinstance(selector, dict) else None
    response = chosen.get("response") if isinstance(chosen, dict) else None
    key = response.get("intent_response_key") if isinstance(response, dict) else None
    if not isinstance(key, str) or not key.startswith(f"{RETRIEVAL_INTENT}/"):
        return None
    return key.split("/", 1)[1]


def say_answer(turn: Turn) -> FaqAnswer | None:
    """Say the clinic's answer to this message's general question; None if there is none."""
    topic = faq_topic(turn)
    answer = load_faq(turn.settings.faq_dir, turn.lang).get(topic) if topic else None
    turn.say(answer.text if answer else t.faq_not_sure())
    return answer


class AnswerFaq(BillbotAction):
    NAME = "action_answer_faq"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        answer = say_answer(turn)
        if answer is None or answer.offer is None:
            return [SlotSet("offer", None)]
        turn.say(t.faq_offer(answer.offer))
        return [SlotSet("offer", OFFER_PREFIX + answer.offer)]
