"""Small talk, help, fallbacks, escalation to a person, and yes/no to the last offer."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions import templates as t
from actions.base import BillbotAction, Turn, run_action


class Greet(BillbotAction):
    NAME = "action_greet"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.greet(turn.settings.clinic_name))
        return []


class Goodbye(BillbotAction):
    NAME = "action_goodbye"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.goodbye())
        return [SlotSet("offer", None)]


class Thanks(BillbotAction):
    NAME = "action_thanks"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.thanks())
        return []


class Help(BillbotAction):
    NAME = "action_help"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.help_text(turn.settings.clinic_phone))
        return []


class OutOfScope(BillbotAction):
    NAME = "action_out_of_scope"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.out_of_scope(turn.settings.clinic_phone))
        return []


class BotChallenge(BillbotAction):
    NAME = "action_bot_challenge"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.bot_challenge())
        return []


class Inform(BillbotAction):
    """Details sent out of the blue (a date, an account number) start nothing and reveal nothing."""

    NAME = "action_inform"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.inform_unprompted())
        return []


class RequestHuman(BillbotAction):
    NAME = "action_request_human"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.hand_to_representative("request_human")
        turn.say(t.escalated(turn.settings.office_hours, turn.settings.clinic_phone,
                             away=turn.away))
        return [SlotSet("escalated", True), SlotSet("offer", None)]


class Fallback(BillbotAction):
    """Low confidence: ask again; the second time in a row, hand over to a person."""

    NAME = "action_fallback"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        intents = [e.get("parse_data", {}).get("intent", {}).get("name")
                   for e in turn.tracker.events if e.get("event") == "user"]
        if len(intents) >= 2 and intents[-2] == "nlu_fallback" and not turn.slot("escalated"):
            turn.hand_to_representative("low_confidence")
            turn.say(t.fallback_escalated(turn.settings.office_hours,
                                          turn.settings.clinic_phone, away=turn.away))
            return [SlotSet("escalated", True)]
        turn.say(t.not_understood())
        return []


# What a YES accepts, by the `offer` slot the last answer set.
OFFERS = {
    "itemise": "action_itemise",
    "refund_request": "action_request_refund",
    "plan_confirm": "action_create_plan",
    "human_dispute": "action_escalate_dispute",
    # After a general answer (actions/faq.py): the patient's own figure.
    "faq:insurance_coverage": "action_insurance_coverage",
    "faq:payment_plan": "action_payment_plan",
    "faq:request_statement": "action_request_statement",
    "faq:financial_assistance": "action_financial_assistance",
    "faq:check_balance": "action_check_balance",
}


class AcceptOffer(BillbotAction):
    NAME = "action_accept_offer"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        target = OFFERS.get(turn.slot("offer") or "")
        if target is None:
            turn.say(t.ok_nothing_pending())
            return []
        return [SlotSet("offer", None), *run_action(target, turn)]


class DeclineOffer(BillbotAction):
    NAME = "action_decline_offer"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.say(t.declined())
        return [SlotSet("offer", None)]


class EscalateDispute(BillbotAction):
    NAME = "action_escalate_dispute"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        turn.hand_to_representative("dispute")
        turn.say(t.escalated(turn.settings.office_hours, turn.settings.clinic_phone,
                             away=turn.away))
        return [SlotSet("escalated", True)]
