"""Explain my bill: how each open visit's charge became what the patient owes, in the billing
core's plain words (billing.core.explanation), with the same amounts as the balance."""
from __future__ import annotations

from typing import Any

from actions import templates as t
from actions.base import AccountAction, Turn
from billing.accounts import AccountSnapshot
from billing.core.balances import compute_balance
from billing.core.explanation import explain

MAX_VISITS = 3  # explained in the chat; the itemized statement has them all


class ExplainBill(AccountAction):
    NAME = "action_explain_bill"
    audit_action = "view_explanation"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        balance = compute_balance(account.items)
        explained = explain(balance, account.items)
        if not explained:
            turn.say(t.explain_no_visits())
            return []
        open_visits = [e for e in explained if e.visit.remaining or e.visit.pending_insurance]
        chosen = open_visits or explained
        shown = chosen[:MAX_VISITS]
        turn.say(t.explain_bill(balance.due_now, [e.text for e in shown],
                                len(chosen) - len(shown)))
        return []
