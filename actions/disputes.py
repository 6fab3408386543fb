"""A charge the patient questions: run the discrepancy checks, explain them, open a case."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions import templates as t
from actions.base import AccountAction, Turn
from billing.accounts import AccountSnapshot
from billing.core.balances import compute_balance
from billing.core.discrepancies import find_discrepancies
from billing.core.ledger import EntryType
from billing.core.promises import OpenCase, expected_dispute_answer
from billing.requests import open_dispute


class DisputeCharge(AccountAction):
    NAME = "action_dispute_charge"
    audit_action = "dispute_charge"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        if account.open_disputes:
            case = account.open_disputes[0]
            expected = expected_dispute_answer(
                OpenCase(case.reference, case.opened_at.date()),
                turn.settings.dispute_review_days)
            turn.say(t.dispute_already_open(
                case.reference, expected if expected < turn.now.date() else None))
            return [SlotSet("offer", "human_dispute")]
        findings = [f for f in find_discrepancies(account.items, account.coverages,
                                                  account.refunds) if f.for_patient]
        if findings:
            turn.say(t.dispute_findings([f.summary for f in findings]))
            entry_ids = [e for f in findings for e in f.entry_ids]
            kinds = {e: f.kind for f in findings for e in f.entry_ids}
            amount = sum(f.amount for f in findings)
            summary = "; ".join(f.kind for f in findings)
        else:
            turn.say(t.dispute_no_findings())
            charges = {i.entry_id for i in account.items if i.type is EntryType.CHARGE}
            owing = [v for v in compute_balance(account.items).visits if v.remaining > 0]
            entry_ids = [e for v in owing for e in v.entry_ids if e in charges]
            kinds, amount, summary = {}, sum(v.remaining for v in owing), "patient_questioned"
        dispute = open_dispute(turn.session, account.patient_id, entry_ids, summary, amount,
                               turn.now, kinds)
        turn.audit("open_dispute", account.patient_id, reference=dispute.reference,
                   entries=len(entry_ids))
        turn.say(t.dispute_opened(dispute.reference))
        return [SlotSet("offer", "human_dispute")]
