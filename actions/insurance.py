"""Insurance: coverage on file with deductible and out-of-pocket progress, claim status of
recent visits, estimates from the price list; and a new payer recorded for a representative."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions import templates as t
from actions.base import AccountAction, BillbotAction, Turn, run_action
from actions.forms import leave_form, wants_to_stop
from actions.parsing import find_member_id, guess_payer
from billing.accounts import AccountSnapshot
from billing.core.balances import Balance, VisitLine, compute_balance
from billing.core.chargemaster import estimate, load_chargemaster
from billing.core.ledger import ClaimStatus
from billing.core.promises import expected_claim_decision
from billing.errors import RequestError
from billing.insurance_changes.service import record_insurance_change
from billing.price_list_store import load_clinic_chargemaster

RECENT_VISITS = 3
FORM_SLOTS = ("new_payer", "new_member_id")


@lru_cache(maxsize=2)
def prices(path: str):
    """Chargemaster (the clinic's list price per service) read from the file at path."""
    return load_chargemaster(path)


class InsuranceCoverage(AccountAction):
    NAME = "action_insurance_coverage"
    audit_action = "view_coverage"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        today = turn.now.date()
        coverage = next((c for c in reversed(account.coverages) if c.active_on(today)), None)
        if coverage is None:
            turn.say(t.no_coverage())
        else:
            turn.say(t.coverage_on_file(coverage.payer, coverage.plan_name,
                                        coverage.member_id[-4:], coverage.deductible,
                                        coverage.deductible_met, coverage.out_of_pocket_max,
                                        coverage.out_of_pocket_met))
        balance = compute_balance(account.items)
        visits = [v for v in balance.visits
                  if v.claim_status and v.claim_status.value != "self_pay"]
        claims = [t.claim_line(v.service_date, v.description, v.claim_status.value,
                               _late_decision(balance, v, turn))
                  for v in visits[-RECENT_VISITS:]]
        if claims:
            turn.say(t.recent_claims(claims))
        service = turn.entity("service")
        # The clinic's own imported price list when it has one; else the shipped (demo) one.
        price_list = load_clinic_chargemaster(turn.session) or prices(turn.settings.chargemaster_path)
        found = estimate(price_list, service or turn.text, coverage, today)
        if found is not None:
            turn.say(t.estimate(found.entry.description, found.entry.price,
                                found.responsibility.patient_total, coverage is not None))
        elif service:
            turn.say(t.no_estimate(service))
        return []


def _late_decision(balance: Balance, visit: VisitLine, turn: Turn) -> date | None:
    """When a pending claim's decision was expected, if that date has passed."""
    if visit.claim_status is not ClaimStatus.PENDING or not visit.claim_id:
        return None
    expected = expected_claim_decision(balance, visit.claim_id, turn.settings.claim_decision_days)
    return expected if expected and expected < turn.now.date() else None


class UpdateInsurance(AccountAction):
    NAME = "action_update_insurance"
    audit_action = "start_insurance_change"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        return [*(SlotSet(s, None) for s in FORM_SLOTS), SlotSet("escape_to", None),
                FollowupAction("insurance_form")]


class ValidateInsuranceForm(BillbotAction):
    NAME = "validate_insurance_form"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        requested = turn.slot("requested_slot")
        member = turn.entity("member_id") or find_member_id(turn.text)
        payer = turn.entity("payer") or guess_payer(turn.text, member)
        if requested is None:
            events = []
            if turn.entity("payer"):
                events.append(SlotSet("new_payer", turn.entity("payer")))
            if turn.entity("member_id"):
                events.append(SlotSet("new_member_id", turn.entity("member_id")))
            if not turn.entity("payer"):
                turn.say(t.ask_payer())
            elif not turn.entity("member_id"):
                turn.say(t.ask_member_id())
            return events or [SlotSet("escape_to", None)]
        if wants_to_stop(turn) or turn.intent == "deny":
            return leave_form(turn, FORM_SLOTS, None)
        if turn.intent == "request_human" and turn.confidence >= 0.6:
            return leave_form(turn, FORM_SLOTS, "action_request_human")
        if requested == "new_payer":
            if not payer:
                turn.say(t.ask_payer())
                return [SlotSet("new_payer", None), SlotSet("escape_to", None)]
            events = [SlotSet("new_payer", payer)]
            if member:
                events.append(SlotSet("new_member_id", member))
            else:
                turn.say(t.ask_member_id())
            return events
        if not member:
            turn.say(t.ask_member_id_again())
            return [SlotSet("new_member_id", None), SlotSet("escape_to", None)]
        return [SlotSet("new_member_id", member)]


class InsuranceChangeSubmit(BillbotAction):
    NAME = "action_insurance_change_submit"
    check_frustration = False

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        escape = turn.slot("escape_to")
        if escape:
            return [SlotSet("escape_to", None), *run_action(escape, turn)]
        payer, member = turn.slot("new_payer"), turn.slot("new_member_id")
        if not payer or payer == "n/a":
            return []
        patient_id = turn.verified_patient()
        if patient_id is None:
            return run_action("action_update_insurance", turn)
        try:
            record_insurance_change(session=turn.session, patient_id=patient_id, payer=payer,
                                    member_id=member or "")
        except RequestError as err:
            turn.say(t.insurance_change_invalid(str(err)))
            return [SlotSet(s, None) for s in FORM_SLOTS]
        turn.audit("record_insurance_change", patient_id)
        turn.say(t.insurance_change_recorded(payer))
        return [SlotSet(s, None) for s in FORM_SLOTS]
