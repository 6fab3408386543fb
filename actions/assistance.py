"""Financial assistance screening: household size and income in, the tier and how to apply
out. It needs no verification: it reads nothing from the account."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions import templates as t
from actions.base import BillbotAction, Turn, run_action
from actions.forms import leave_form, wants_to_stop
from actions.parsing import income_period, parse_household, parse_money
from actions.plans import assistance_messages

FORM_SLOTS = ("assist_household", "assist_income")
ANNUAL_IF_AT_LEAST = 1_500_000  # a bare amount of $15,000 or more is read as a yearly income


class FinancialAssistance(BillbotAction):
    NAME = "action_financial_assistance"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        return [*(SlotSet(s, None) for s in FORM_SLOTS), SlotSet("escape_to", None),
                FollowupAction("assistance_form")]


class ValidateAssistanceForm(BillbotAction):
    NAME = "validate_assistance_form"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        requested = turn.slot("requested_slot")
        size = parse_household(turn.entity("household_size"))
        if requested is None:
            if size is not None:
                turn.say(t.ask_annual_income())
                return [SlotSet("assist_household", str(size))]
            turn.say(t.ask_household())
            return [SlotSet("escape_to", None)]
        if wants_to_stop(turn) or turn.intent == "deny":
            return leave_form(turn, FORM_SLOTS, None)
        if turn.intent == "request_human" and turn.confidence >= 0.6:
            return leave_form(turn, FORM_SLOTS, "action_request_human")
        if requested == "assist_household":
            size = size or parse_household(turn.text)
            if size is None:
                turn.say(t.ask_household_again())
                return [SlotSet("assist_household", None), SlotSet("escape_to", None)]
            turn.say(t.ask_annual_income())
            return [SlotSet("assist_household", str(size))]
        amount = parse_money(turn.entity("income") or turn.entity("amount") or turn.text)
        if amount is None:
            turn.say(t.ask_annual_income())
            return [SlotSet("assist_income", None), SlotSet("escape_to", None)]
        period = income_period(turn.text) or (
            "year" if amount >= ANNUAL_IF_AT_LEAST else "month")
        annual = amount if period == "year" else amount * 12
        return [SlotSet("assist_income", str(annual))]


class AssistanceResult(BillbotAction):
    NAME = "action_assistance_result"
    check_frustration = False

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        escape = turn.slot("escape_to")
        if escape:
            return [SlotSet("escape_to", None), *run_action(escape, turn)]
        size, income = turn.slot("assist_household"), turn.slot("assist_income")
        if not (size or "").isdigit() or not (income or "").isdigit():
            return []
        turn.say(assistance_messages(turn, int(size), int(income)))
        return [SlotSet(s, None) for s in FORM_SLOTS]
