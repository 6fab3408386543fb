"""Financial assistance screening: household size and income in, the tier and how to apply
out. It needs no verification: it reads nothing from the account."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions import templates as t
from actions.base import BillbotAction, Turn, run_action
from actions.forms import TOPIC_ACTIONS, leave_form, new_topic, switch_topic, wants_to_stop
from actions.parsing import income_annual, income_period, parse_household, parse_money
from actions.plans import assistance_messages

FORM_SLOTS = ("assist_household", "assist_income")


class FinancialAssistance(BillbotAction):
    NAME = "action_financial_assistance"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        return [*(SlotSet(s, None) for s in FORM_SLOTS), SlotSet("escape_to", None),
                FollowupAction("assistance_form")]


class ValidateAssistanceForm(BillbotAction):
    """Household size, then income; what the patient already told (in the first message, say)
    is taken and not asked again, and an answer that is not a valid value is asked again."""

    NAME = "validate_assistance_form"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        requested = turn.slot("requested_slot")
        if requested is not None and (wants_to_stop(turn) or turn.intent == "deny"):
            return leave_form(turn, FORM_SLOTS, None)
        size = turn.said("household") if requested != "assist_household" else None
        if requested == "assist_household":
            size = parse_household(turn.entity("household_size") or turn.text) or \
                parse_household(turn.text)
        income = turn.said("income_annual") if requested != "assist_income" else None
        if requested == "assist_income":
            income = turn.details.income_annual
            if income is None and turn.intent not in TOPIC_ACTIONS:
                bare = parse_money(turn.entity("income") or turn.entity("amount") or turn.text)
                income = None if bare is None else income_annual(bare, income_period(turn.text))
        events: list[dict[str, Any]] = [SlotSet("escape_to", None)]
        if size is not None:
            events += [SlotSet("assist_household", str(size)), SlotSet("said_household", str(size))]
        if income is not None:
            events += [SlotSet("assist_income", str(income)), SlotSet("said_income", str(income))]
        if size is not None and income is not None:
            return events
        answered = (size if requested == "assist_household" else income) is not None
        if requested is not None and not answered:
            action = new_topic(turn, FinancialAssistance.NAME)
            if action:
                again = t.ask_household_again() if size is None else t.ask_annual_income()
                return switch_topic(turn, FORM_SLOTS, action, requested, again)
        if size is None:
            turn.say(t.ask_household() if requested is None else t.ask_household_again())
            return [*events, SlotSet("assist_household", None)]
        turn.say(t.ask_annual_income())
        return [*events, SlotSet("assist_income", None)]


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
