"""Balance, itemisation, itemized statement and how to pay: read-only answers about an account."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions import templates as t
from actions.base import AccountAction, Turn
from actions.payments import payment_replies
from billing.accounts import AccountSnapshot
from billing.core.balances import Balance, compute_balance
from clinic.statement_links import StatementLinksDisabled, statement_url


def visit_lines(balance: Balance) -> list[str]:
    """One line per visit; their amounts owed add up to what is due now."""
    lines = [
        t.visit_line(v.service_date, v.description, v.charge, v.insurance_paid, v.adjustments,
                     v.patient_paid, v.remaining, v.pending_insurance, v.refunded, v.overpaid)
        for v in balance.visits
    ]
    if balance.refunded_beyond_credit:
        lines.append(t.refunded_beyond_credit_line(balance.refunded_beyond_credit))
    return lines


def statement_messages(account: AccountSnapshot, turn: Turn) -> list[str]:
    """The itemized statement as SMS-sized messages (also what a statement page shows)."""
    balance = compute_balance(account.items)
    return t.statement(account.account_number, turn.now.date(), visit_lines(balance),
                       balance.due_now, balance.pending_insurance, balance.credit)


class CheckBalance(AccountAction):
    NAME = "action_check_balance"
    audit_action = "view_balance"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        balance = compute_balance(account.items)
        plan = account.active_plan
        plan_next = (plan.monthly, plan.next_due) if plan and plan.next_due else None
        turn.say(t.balance(account.first_name, balance.due_now, balance.due_date,
                           balance.pending_insurance, balance.credit, plan_next))
        return [SlotSet("offer", "itemise")]


class Itemise(AccountAction):
    NAME = "action_itemise"
    audit_action = "view_itemisation"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        lines = visit_lines(compute_balance(account.items))
        turn.say(t.chunk(lines) if lines else [t.no_visits()])
        return []


class RequestStatement(AccountAction):
    NAME = "action_request_statement"
    audit_action = "view_statement"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        link = statement_link(turn, account.patient_id)
        turn.say([t.statement_link(link, turn.settings.statement_link_ttl_minutes)] if link
                 else statement_messages(account, turn))
        return []


def statement_link(turn: Turn, patient_id: int) -> str | None:
    """On web chat, a signed link to the statement page the gateway serves; else None."""
    if turn.identity.channel != "web":
        return None
    try:
        return statement_url(turn.settings, patient_id, turn.now)
    except StatementLinksDisabled:  # no SESSION_SECRET: send the statement as messages
        return None


class MakePayment(AccountAction):
    """A payment link for what the patient asked to pay (actions/payments.py)."""

    NAME = "action_make_payment"
    audit_action = "view_payment_info"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        turn.say(payment_replies(turn, account))
        return []
