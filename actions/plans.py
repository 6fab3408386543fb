"""Payment plans: ask income (and household size where assistance may apply), offer 2-3
options from billing.core.plans, confirm, then create the plan and state its schedule."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions import templates as t
from actions.base import AccountAction, BillbotAction, Turn, run_action
from actions.forms import TOPIC_ACTIONS, leave_form, new_topic, switch_topic, wants_to_stop
from actions.parsing import (
    income_annual,
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
from billing.core.plans import PlanOffer, PlanPolicy, add_months, plan_at_monthly, plan_options
from billing.errors import RequestError
from billing.payment_plans.service import create_plan

FORM_SLOTS = ("plan_income", "plan_household", "plan_choice")
AT = "at:"  # plan_choice for a plan at the monthly amount the patient offered: "at:5000"


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
    """Income, then the options (or the plan at the amount the patient offered); a household
    size only where no plan fits. Whatever the patient already said is not asked again."""

    NAME = "validate_plan_form"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        requested = turn.slot("requested_slot")
        patient_id = turn.verified_patient()
        if requested is not None and (wants_to_stop(turn) or turn.intent == "deny"):
            return leave_form(turn, FORM_SLOTS, None)
        if patient_id is None:  # idle expiry mid-plan: verify again, then start over
            return leave_form(turn, FORM_SLOTS, "action_payment_plan")
        account = load_snapshot(turn.session, patient_id)
        offered = turn.said("offer_monthly") if requested != "plan_household" else None
        if offered is not None:
            return at_amount(turn, account, offered)
        if requested is None:
            annual = turn.said("income_annual")
            if annual is not None:
                return self._options(turn, account, monthly_from_annual(annual), annual)
            turn.say(t.ask_income())
            return [SlotSet("escape_to", None)]
        if requested == "plan_income":
            return self._income(turn, account)
        if requested == "plan_household":
            return self._household(turn)
        return self._choice(turn, account)

    def _switch(self, turn: Turn, requested: str, ask_again: str) -> list[dict[str, Any]] | None:
        action = new_topic(turn, PaymentPlan.NAME)
        return switch_topic(turn, FORM_SLOTS, action, requested, ask_again) if action else None

    def _income(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        annual = turn.details.income_annual
        if annual is None and turn.intent not in TOPIC_ACTIONS:
            bare = parse_money(turn.entity("income") or turn.entity("amount") or turn.text)
            annual = None if bare is None else income_annual(bare, income_period(turn.text))
        if annual is None:
            switched = self._switch(turn, "plan_income", t.ask_income_again())
            if switched is not None:
                return switched
            turn.say(t.ask_income_again())
            return [SlotSet("plan_income", None), SlotSet("escape_to", None)]
        return self._options(turn, account, monthly_from_annual(annual), annual)

    def _options(self, turn: Turn, account: AccountSnapshot, income: int,
                 annual: int | None = None) -> list[dict[str, Any]]:
        """`income` per month; `annual` when the patient gave it per year (kept exact)."""
        annual = income * 12 if annual is None else annual
        offer = offer_for(turn, account, income)
        kept = [SlotSet("plan_income", str(income)), SlotSet("said_income", str(annual))]
        if offer.options:
            turn.say(t.plan_options(offer.balance, [
                (o.monthly, o.months, o.installments[0].due_date) for o in offer.options]))
            return [*kept, SlotSet("plan_household", "n/a")]
        if offer.reason == "exceeds_max_term":
            household = turn.said("household")
            if household is not None:
                turn.say(t.plan_unaffordable())
                turn.say(assistance_messages(turn, household, annual))
                return [*kept, SlotSet("plan_household", str(household)),
                        SlotSet("plan_choice", "none")]
            turn.say(t.plan_unaffordable_ask_household())
            return kept
        turn.say(t.plan_too_small(offer.balance, turn.settings.payment_link))
        return [*kept, SlotSet("plan_household", "n/a"), SlotSet("plan_choice", "none")]

    def _household(self, turn: Turn) -> list[dict[str, Any]]:
        size = parse_household(turn.entity("household_size") or turn.text)
        if size is None:
            size = parse_household(turn.text)
        if size is None:
            switched = self._switch(turn, "plan_household", t.ask_household_again())
            if switched is not None:
                return switched
            turn.say(t.ask_household_again())
            return [SlotSet("plan_household", None), SlotSet("escape_to", None)]
        annual = turn.said("income_annual") or int(turn.slot("plan_income")) * 12
        turn.say(assistance_messages(turn, size, annual))
        return [SlotSet("plan_household", str(size)), SlotSet("said_household", str(size)),
                SlotSet("plan_choice", "none")]

    def _choice(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        offer = offer_for(turn, account, int(turn.slot("plan_income")))
        months = [o.months for o in offer.options]
        index = parse_choice(turn.entity("months") and f"{turn.entity('months')} months"
                             or turn.text, months)
        if index is None:
            switched = self._switch(turn, "plan_choice", t.ask_choice_again(len(months)))
            if switched is not None:
                return switched
            turn.say(t.ask_choice_again(len(months)))
            return [SlotSet("plan_choice", None), SlotSet("escape_to", None)]
        return [SlotSet("plan_choice", str(months[index]))]


def at_amount(turn: Turn, account: AccountSnapshot, monthly: int) -> list[dict[str, Any]]:
    """The plan at the monthly amount the patient offered, or the nearest the policy allows and
    why; the form then ends and action_plan_chosen asks to confirm it."""
    due_now = compute_balance(account.items).due_now
    plan = plan_at_monthly(due_now, monthly, add_months(turn.now.date(), 1), policy(turn))
    done = [SlotSet("plan_income", "n/a"), SlotSet("plan_household", "n/a"),
            SlotSet("said_offer", None)]
    if plan.option is None:
        turn.say(t.plan_offer_covers_balance(monthly, due_now, turn.settings.payment_link))
        return [*done, SlotSet("plan_choice", "none")]
    if plan.reason is not None:
        turn.say(t.plan_offer_moved(plan.reason, monthly, plan.option.monthly,
                                    turn.settings.plan_max_months))
    return [*done, SlotSet("plan_choice", f"{AT}{plan.option.monthly}")]


def assistance_policy(s) -> AssistancePolicy:
    """The clinic's assistance tiers, from the ASSISTANCE_* settings."""
    return AssistancePolicy(free_care_max_percent=s.assistance_free_care_max_fpl_percent,
                            discount_max_percent=s.assistance_discount_max_fpl_percent,
                            discount_percent=s.assistance_discount_percent)


def assistance_messages(turn: Turn, household: int, annual_income: int) -> list[str]:
    """Replies telling the patient which financial-assistance tier their household size and annual
    income fall in, plus how to apply."""
    table = load_poverty_table(turn.settings.poverty_table_path)
    result = screen(household, annual_income, table, assistance_policy(turn.settings))
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
        choice = turn.slot("plan_choice") or ""
        if not (choice.isdigit() or choice.startswith(AT)):
            return []
        patient_id = turn.verified_patient()
        if patient_id is None:
            return run_action("action_payment_plan", turn)
        option = _chosen(turn, load_snapshot(turn.session, patient_id))
        if option is None:
            turn.say(t.plan_balance_changed())
            return []
        first, last = option.installments[0], option.installments[-1]
        if choice.startswith(AT):
            turn.say(t.plan_confirm_at(option.monthly, option.months, last.amount,
                                       first.due_date, last.due_date))
        else:
            turn.say(t.plan_confirm(option.monthly, option.months, first.due_date,
                                    option.end_date))
        return [SlotSet("offer", "plan_confirm")]


def _chosen(turn: Turn, account: AccountSnapshot):
    income, choice = turn.slot("plan_income"), turn.slot("plan_choice")
    if (choice or "").startswith(AT) and choice[len(AT):].isdigit():
        due_now = compute_balance(account.items).due_now
        plan = plan_at_monthly(due_now, int(choice[len(AT):]), add_months(turn.now.date(), 1),
                               policy(turn))
        return plan.option if plan.reason is None else None
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
        return [*(SlotSet(s, None) for s in FORM_SLOTS), SlotSet("said_offer", None)]
