"""Payment plans: ask income (and household size where assistance may apply), offer 2-3
options from billing.core.plans, confirm, then create the plan and state its schedule."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions import templates as t
from actions.base import AccountAction, BillbotAction, Turn, run_action
from actions.forms import leave_form, wants_to_stop
from actions.parsing import (
    income_period,
    monthly_from_annual,
    parse_choice,
    parse_household,
    parse_money,
)
from actions.payments import autopay_offer
from billing.accounts import AccountSnapshot, load_snapshot
from billing.core.assistance import AssistancePolicy, load_poverty_table, screen
from billing.core.balances import compute_balance
from billing.core.plans import PlanOffer, PlanPolicy, add_months, plan_options
from billing.errors import RequestError
from billing.payment_plans.service import create_plan

FORM_SLOTS = ("plan_income", "plan_household", "plan_choice")


def plan_policy(s) -> PlanPolicy:
    """The clinic's plan policy, from the PLAN_* settings."""
    return PlanPolicy(max_income_percent=s.plan_max_income_percent,
                      min_monthly=s.plan_min_monthly_cents, max_months=s.plan_max_months)


def policy(turn: Turn) -> PlanPolicy:
    """Payment-plan rules from the PLAN_* settings: income share, least payment, most months."""
    return plan_policy(turn.settings)


def offer_for(turn: Turn, account: AccountSnapshot, monthly_income: int) -> PlanOffer:
    """Plan options for what the account owes now, given the patient's monthly income; first payment
    one month from today."""
    due_now = compute_balance(account.items).due_now
    return plan_options(due_now, monthly_income, add_months(turn.now.date(), 1), policy(turn))


class PaymentPlan(AccountAction):
    NAME = "action_payment_plan"
    audit_action = "view_plan_options"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        plan = account.active_plan
        if plan is not None:
            turn.say(t.plan_exists(plan.monthly, plan.next_due, plan.remaining_installments))
            return []
        if compute_balance(account.items).due_now <= 0:
            turn.say(t.plan_nothing_due())
            return []
        return [*(SlotSet(s, None) for s in FORM_SLOTS), SlotSet("escape_to", None),
                FollowupAction("plan_form")]


class ValidatePlanForm(BillbotAction):
    NAME = "validate_plan_form"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        requested = turn.slot("requested_slot")
        if requested is None:
            turn.say(t.ask_income())
            return [SlotSet("escape_to", None)]
        if wants_to_stop(turn) or turn.intent == "deny":
            return leave_form(turn, FORM_SLOTS, None)
        patient_id = turn.verified_patient()
        if patient_id is None:  # idle expiry mid-plan: verify again, then start over
            return leave_form(turn, FORM_SLOTS, "action_payment_plan")
        if turn.intent == "request_human" and turn.confidence >= 0.6:
            return leave_form(turn, FORM_SLOTS, "action_request_human")
        account = load_snapshot(turn.session, patient_id)
        if requested == "plan_income":
            return self._income(turn, account)
        if requested == "plan_household":
            return self._household(turn)
        return self._choice(turn, account)

    def _income(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        amount = parse_money(turn.entity("income") or turn.entity("amount") or turn.text)
        if amount is None:
            turn.say(t.ask_income_again())
            return [SlotSet("plan_income", None), SlotSet("escape_to", None)]
        if income_period(turn.text) == "year":
            amount = monthly_from_annual(amount)
        offer = offer_for(turn, account, amount)
        if offer.options:
            turn.say(t.plan_options(offer.balance, [
                (o.monthly, o.months, o.installments[0].due_date) for o in offer.options]))
            return [SlotSet("plan_income", str(amount)), SlotSet("plan_household", "n/a")]
        if offer.reason == "exceeds_max_term":
            turn.say(t.plan_unaffordable_ask_household())
            return [SlotSet("plan_income", str(amount))]
        turn.say(t.plan_too_small(offer.balance, turn.settings.payment_link))
        return [SlotSet("plan_income", str(amount)), SlotSet("plan_household", "n/a"),
                SlotSet("plan_choice", "none")]

    def _household(self, turn: Turn) -> list[dict[str, Any]]:
        size = parse_household(turn.entity("household_size") or turn.text)
        if size is None:
            turn.say(t.ask_household_again())
            return [SlotSet("plan_household", None), SlotSet("escape_to", None)]
        annual = int(turn.slot("plan_income")) * 12
        turn.say(assistance_messages(turn, size, annual))
        return [SlotSet("plan_household", str(size)), SlotSet("plan_choice", "none")]

    def _choice(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        offer = offer_for(turn, account, int(turn.slot("plan_income")))
        months = [o.months for o in offer.options]
        index = parse_choice(turn.entity("months") and f"{turn.entity('months')} months"
                             or turn.text, months)
        if index is None:
            turn.say(t.ask_choice_again(len(months)))
            return [SlotSet("plan_choice", None), SlotSet("escape_to", None)]
        return [SlotSet("plan_choice", str(months[index]))]


def assistance_messages(turn: Turn, household: int, annual_income: int) -> list[str]:
    """Replies telling the patient which financial-assistance tier their household size and annual
    income fall in, plus how to apply."""
    table = load_poverty_table(turn.settings.poverty_table_path)
    result = screen(household, annual_income, table, AssistancePolicy())
    return t.assistance_result(result.household_size, result.annual_income,
                               result.percent_of_poverty, result.tier, result.discount_percent,
                               turn.settings.assistance_link)


class PlanChosen(BillbotAction):
    """After plan_form: ask to confirm the chosen option (or run what the patient left for)."""

    NAME = "action_plan_chosen"
    check_frustration = False

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        escape = turn.slot("escape_to")
        if escape:
            return [SlotSet("escape_to", None), *run_action(escape, turn)]
        choice = turn.slot("plan_choice")
        if not (choice or "").isdigit():
            return []
        patient_id = turn.verified_patient()
        if patient_id is None:
            return run_action("action_payment_plan", turn)
        option = _chosen(turn, load_snapshot(turn.session, patient_id))
        if option is None:
            turn.say(t.plan_balance_changed())
            return []
        turn.say(t.plan_confirm(option.monthly, option.months, option.installments[0].due_date,
                                option.end_date))
        return [SlotSet("offer", "plan_confirm")]


def _chosen(turn: Turn, account: AccountSnapshot):
    income, choice = turn.slot("plan_income"), turn.slot("plan_choice")
    if not (income or "").isdigit() or not (choice or "").isdigit():
        return None
    offer = offer_for(turn, account, int(income))
    return next((o for o in offer.options if o.months == int(choice)), None)


class CreatePlan(AccountAction):
    NAME = "action_create_plan"
    audit_action = "create_plan"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        option = _chosen(turn, account)
        if option is None:
            turn.say(t.plan_balance_changed())
            return []
        schedule = [(i.seq, i.due_date, i.amount) for i in option.installments]
        try:
            plan = create_plan(session=turn.session, patient_id=account.patient_id,
                               total=sum(a for *_, a in schedule), installments=schedule)
        except RequestError as err:
            turn.say(t.plan_not_created(str(err)))
            return []
        turn.say(t.plan_created(schedule), autopay_offer(turn, plan.id))
        return [SlotSet(s, None) for s in FORM_SLOTS]
