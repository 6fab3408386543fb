"""Identity verification as a form that owns every reply until it ends: phone or linked chat
-> date of birth (a family: first name and date of birth), otherwise account number + date of
birth. Three failures lock the sender; failures against one account from any senders, or from
one web client address, lock that account or address (billing/verification_limits.py). A
locked account is answered before its date is compared. Then the request that needed it runs."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from actions import templates as t
from actions.base import BillbotAction, Turn, run_action
from actions.faq import say_answer
from actions.forms import FAQ_ACTION, new_topic, wants_to_stop
from billing.core.dates import DAY_FIRST
from billing.core.dates import find_date_of_birth as _find_date
from billing.db.models import Patient
from billing.languages.service import adopt_switch
from billing.throttle import Limit
from billing.verification import (
    MAX_FAILURES,
    VerificationLocked,
    end_verification,
    find_account_number,
    link_telegram_chat,
    locked_until,
    patient_for_account,
    patients_on_channel,
    record_failure,
    record_success,
    with_birth_date,
    with_first_name,
)
from billing.verification_limits import Limits, account_locked, address_locked, count_failure
from clinic.settings import Settings

LEAVE_INTENTS = {"request_human": "action_request_human", "goodbye": "action_goodbye"}
SCRATCH = ("verify_stage", "verify_name", "verify_dob", "verify_account")


def find_date_of_birth(text: str | None, today, turn: Turn):
    """A date of birth read the way the turn's language writes dates (Spanish: day first)."""
    return _find_date(text or "", today, day_first=turn.lang in DAY_FIRST)


def _ask(stage: str) -> str:
    return {
        "dob": t.ask_dob(),
        "family": t.ask_family(),
        "family_name": t.ask_first_name(),
        "family_dob": t.ask_family_dob(),
        "account": t.ask_account_and_dob(),
        "account_dob": t.ask_dob_for_account(),
        "account_number": t.ask_account_number(),
    }[stage]


def limits(settings: Settings) -> Limits:
    """Failures allowed before a lockout, and lock times, per account and per client address."""
    return Limits(
        account=Limit.minutes(settings.verification_account_max_failures,
                              settings.verification_account_window_minutes,
                              settings.verification_account_lock_minutes),
        address=Limit.minutes(settings.web_verification_failures_per_address,
                              settings.verification_address_window_minutes,
                              settings.verification_address_window_minutes),
    )


def _still_locked(turn: Turn) -> list[dict[str, Any]]:
    turn.say(t.still_locked(turn.settings.office_hours, turn.settings.clinic_phone))
    return [SlotSet("verify_result", "locked")]


def _account_still_locked(turn: Turn) -> list[dict[str, Any]]:
    turn.say(t.account_still_locked(turn.settings.office_hours, turn.settings.clinic_phone))
    return [*(SlotSet(name, None) for name in SCRATCH), SlotSet("verify_result", "locked")]


def _first_stage(candidates: list[Patient]) -> str:
    if len(candidates) == 1:
        return "dob"
    return "family" if candidates else "account"


class ValidateVerifyForm(BillbotAction):
    """Reads each reply while verify_form is active; never rejects, so nothing skips it."""

    NAME = "validate_verify_form"

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        if turn.slot("requested_slot") is None:  # the form is starting
            if (locked_until(turn.session, turn.sender_key, turn.now) is not None
                    or address_locked(turn.session, turn.client_ref, turn.now)):
                return _still_locked(turn)
            on_channel = patients_on_channel(turn.session, turn.identity)
            if account_locked(turn.session, _numbers(on_channel), turn.now):
                return _account_still_locked(turn)
            stage = _first_stage(on_channel)
            turn.say(_ask(stage))
            return [SlotSet("verify_stage", stage)]

        dob = find_date_of_birth(turn.entity("dob"), turn.now.date(), turn) or find_date_of_birth(
            turn.text, turn.now.date(), turn)
        account = find_account_number(turn.entity("account_number")) or find_account_number(
            turn.text)
        leave = LEAVE_INTENTS.get(turn.intent) if turn.confidence >= 0.6 else None
        if wants_to_stop(turn) or (leave and not dob and not account):
            if leave is None:
                turn.say(t.verification_stopped())
            return [SlotSet("verify_result", "abandoned"), SlotSet("escape_to", leave)]

        stage = turn.slot("verify_stage") or "account"
        asked = new_topic(turn, turn.slot("pending_action") or "")
        if asked and not dob and not account:
            return _new_question(turn, asked, stage)
        events = self._verify(turn, stage, dob, account)
        if asked in RESUMABLE:  # "born 3/4/1980, and what do I owe?": that is answered next
            events.append(SlotSet("pending_action", asked))
        return events

    def _verify(self, turn: Turn, stage: str, dob, account) -> list[dict[str, Any]]:
        candidates = patients_on_channel(turn.session, turn.identity)
        if candidates and account_locked(turn.session, _numbers(candidates), turn.now):
            return _account_still_locked(turn)  # locked meanwhile: say nothing of the reply
        if stage in ("dob",) and candidates:
            if dob is None:
                turn.say(t.verification_retry_hint())
                return [SlotSet("verify_stage", stage)]
            return self._decide(turn, with_birth_date(candidates, dob), stage,
                                _numbers(candidates))
        if stage.startswith("family") and candidates:
            return self._family(turn, candidates, dob)
        return self._account(turn, account, dob)

    def _family(self, turn: Turn, candidates: list[Patient], dob) -> list[dict[str, Any]]:
        named = with_first_name(candidates, turn.text)
        name = named[0].first_name if len(named) == 1 else (turn.slot("verify_name") or None)
        if dob is None and turn.slot("verify_dob"):
            dob = find_date_of_birth(turn.slot("verify_dob"), turn.now.date(), turn)
        if dob is None:
            if name is None:
                turn.say(t.ask_family())
                return [SlotSet("verify_stage", "family")]
            turn.say(t.ask_family_dob())
            return [SlotSet("verify_stage", "family_dob"), SlotSet("verify_name", name)]
        matches = with_birth_date(candidates, dob)
        if name is not None:
            matches = with_first_name(matches, name)
        elif len(matches) > 1:
            turn.say(t.ask_first_name())
            return [SlotSet("verify_stage", "family_name"), SlotSet("verify_dob", dob.isoformat())]
        return self._decide(turn, matches, "family", _numbers(candidates))

    def _account(self, turn: Turn, account: str | None, dob) -> list[dict[str, Any]]:
        account = account or turn.slot("verify_account")
        if dob is None and turn.slot("verify_dob"):
            dob = find_date_of_birth(turn.slot("verify_dob"), turn.now.date(), turn)
        if account and dob:
            if account_locked(turn.session, [account], turn.now):
                return _account_still_locked(turn)  # before the date is compared
            patient = patient_for_account(turn.session, account, dob)
            return self._decide(turn, [patient] if patient else [], "account", [account])
        if account:
            turn.say(t.ask_dob_for_account())
            return [SlotSet("verify_stage", "account_dob"), SlotSet("verify_account", account)]
        if dob:
            turn.say(t.ask_account_number())
            return [SlotSet("verify_stage", "account_number"),
                    SlotSet("verify_dob", dob.isoformat())]
        turn.say(t.ask_account_and_dob())
        return [SlotSet("verify_stage", "account")]

    def _decide(self, turn: Turn, matches: list[Patient], stage: str,
                accounts: list[str]) -> list[dict[str, Any]]:
        """`accounts`: every account number this attempt could have matched."""
        cleared = [SlotSet(name, None) for name in SCRATCH]
        if account_locked(turn.session, accounts, turn.now):
            return _account_still_locked(turn)
        if address_locked(turn.session, turn.client_ref, turn.now):
            return [*cleared, *_still_locked(turn)]
        if len(matches) == 1:
            patient = matches[0]
            try:
                record_success(turn.session, turn.sender_key, patient.id, turn.now)
            except VerificationLocked:
                turn.say(t.still_locked(turn.settings.office_hours, turn.settings.clinic_phone))
                return [*cleared, SlotSet("verify_result", "locked")]
            link_telegram_chat(turn.session, patient.id, turn.identity)
            adopt_switch(turn.session, turn.sender_key, patient.id, turn.now)
            turn.audit("verify", patient.id, method=stage)
            turn.say(t.verified(patient.first_name))
            return [*cleared, SlotSet("verify_result", "verified"),
                    SlotSet("verified_account", patient.account_number)]
        counted = count_failure(turn.session, account_numbers=accounts,
                                client_ref=turn.client_ref, limits=limits(turn.settings),
                                now=turn.now, channel=turn.identity.channel)
        try:
            outcome = record_failure(turn.session, turn.sender_key, turn.now,
                                     lock_minutes=turn.settings.verification_lock_minutes)
        except VerificationLocked:
            outcome = None
        if counted.accounts_locked:
            turn.hand_to_representative("verification_locked", patient_id=None)
            turn.say(t.account_locked(turn.settings.office_hours, turn.settings.clinic_phone,
                                      away=turn.away))
            return [*cleared, SlotSet("verify_result", "locked"), SlotSet("escalated", True)]
        if outcome is None or outcome.locked_until is not None:
            turn.hand_to_representative("verification_locked", patient_id=None)
            turn.say(t.verification_locked(turn.settings.verification_lock_minutes,
                                           turn.settings.office_hours,
                                           turn.settings.clinic_phone, away=turn.away))
            return [*cleared, SlotSet("verify_result", "locked"), SlotSet("escalated", True)]
        if counted.address_locked:
            return [*cleared, *_still_locked(turn)]
        turn.say(t.verification_failed(MAX_FAILURES - outcome.failures))
        restart = "account" if stage.startswith("account") else stage
        turn.say(_ask(restart))
        return [*cleared, SlotSet("verify_stage", restart)]


def _new_question(turn: Turn, action: str, stage: str) -> list[dict[str, Any]]:
    """A new question while verification waits for an answer: an account question becomes the
    one answered once verified; a general one is answered now; financial assistance needs no
    verification, so verification ends for it. The question asked last is asked again."""
    if action in RESUMABLE:
        turn.say(t.after_verification(), _ask(stage))
        return [SlotSet("pending_action", action), SlotSet("verify_stage", stage)]
    if action == FAQ_ACTION:
        say_answer(turn)
        turn.say(_ask(stage))
        return [SlotSet("verify_stage", stage)]
    return [SlotSet("verify_result", "abandoned"), SlotSet("escape_to", action)]


def _numbers(patients: list[Patient]) -> list[str]:
    return [p.account_number for p in patients]


# Actions that may run once the sender is verified (the request that started verification).
RESUMABLE = {
    "action_check_balance", "action_dispute_charge", "action_refund_status",
    "action_payment_plan", "action_make_payment", "action_insurance_coverage",
    "action_request_statement", "action_update_insurance", "action_explain_bill",
    "action_stop_autopay",
}
# What a patient may leave verification for (it needs none).
ESCAPES = {"action_request_human", "action_goodbye", "action_financial_assistance"}


class ResumeAfterVerification(BillbotAction):
    NAME = "action_resume_after_verification"
    check_frustration = False

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SlotSet("pending_action", None),
                                        SlotSet("escape_to", None)]
        pending, escape = turn.slot("pending_action"), turn.slot("escape_to")
        if turn.slot("verify_result") == "verified" and pending in RESUMABLE:
            events += run_action(pending, turn)
        elif escape in ESCAPES:
            events += run_action(escape, turn)
        return events


class SessionStart(BillbotAction):
    """A new conversation session starts unverified (verification lasts one session)."""

    NAME = "action_session_start"
    check_frustration = False

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        end_verification(turn.session, turn.sender_key)
        return [SessionStarted(), ActionExecuted("action_listen")]
