"""Refund status, and a refund request for a credit balance (a representative approves it)."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions import templates as t
from actions.base import AccountAction, Turn
from billing.accounts import AccountSnapshot
from billing.core.balances import compute_balance
from billing.core.ledger import RefundStatus
from billing.core.promises import add_business_days, expected_refund_date, refund_is_late
from billing.requests import RequestError, request_refund

OPEN = (RefundStatus.REQUESTED, RefundStatus.APPROVED)


def refundable_credit(account: AccountSnapshot) -> int:
    """Credit not already on its way back: nothing while a refund is requested or approved."""
    if any(r.status in OPEN for r in account.refunds):
        return 0
    return compute_balance(account.items).credit


class RefundStatusAction(AccountAction):
    NAME = "action_refund_status"
    audit_action = "view_refunds"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        days, today = turn.settings.refund_business_days, turn.now.date()
        lines = [t.refund_line(r.amount, r.status.value, r.method, expected_refund_date(r, days),
                               r.requested_date, refund_is_late(r, days, today))
                 for r in account.refunds]
        turn.say(t.chunk(lines) if lines else [t.no_refunds()])
        credit = refundable_credit(account)
        if credit > 0:
            turn.say(t.offer_refund(credit))
            return [SlotSet("offer", "refund_request")]
        return []


class RequestRefund(AccountAction):
    NAME = "action_request_refund"
    audit_action = "request_refund"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        credit = refundable_credit(account)
        try:
            refund = request_refund(turn.session, account.patient_id, credit, turn.now.date())
        except RequestError as err:
            turn.say(t.refund_not_possible(str(err)))
            return []
        expected = add_business_days(turn.now.date(), turn.settings.refund_business_days)
        turn.say(t.refund_requested(refund.amount_cents, refund.refund_id, expected))
        return []
