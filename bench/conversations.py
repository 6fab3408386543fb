"""The conversations the load generator holds: what billbot's patients write about, each
following what the assistant really asks (its sentences are read from the wording catalogue,
so a changed prompt changes what the simulated patient recognises, not a copy here).

Each script is a generator (bench/openloop.Script): it yields the patient's messages, is sent
each reply, and returns True when the conversation reached its goal (a balance read and
itemised, a dispute checked, a plan set up, a refund answered, an FAQ answered). Verification
is answered as it is asked: the date of birth on SMS (the phone is known), the account number
and then the date of birth on the web chat.
"""
from __future__ import annotations

import random
import re
from collections.abc import Generator
from functools import cache

from bench.openloop import Patient, Script
from clinic import wording

Conversation = Generator[str, str, bool]


@cache
def fragment(msg_id: str) -> str:
    """The longest literal part of an English catalogue sentence (between its {fields})."""
    template = wording.messages("en")[msg_id]
    return " ".join(max(re.split(r"\{[^}]*\}", template), key=len).split())


def says(reply: str, *msg_ids: str) -> bool:
    """Whether the reply contains one of these catalogue sentences (an SMS reply comes in
    parts split at spaces, so whitespace is compared loosely)."""
    flat = " ".join(reply.split())
    return any(fragment(m) in flat for m in msg_ids)


def verify(patient: Patient, reply: str) -> Generator[str, str, str]:
    """Answer the verification questions the assistant asks; the reply after them."""
    for _ in range(4):
        if says(reply, "verify.ask_account_and_dob", "verify.ask_account_number"):
            reply = yield patient.account_number
        elif says(reply, "verify.ask_family"):
            reply = yield f"{patient.first_name} {patient.dob}"
        elif says(reply, "verify.ask_first_name"):
            reply = yield patient.first_name
        elif says(reply, "verify.ask_dob", "verify.ask_dob_for_account",
                  "verify.ask_family_dob", "verify.retry_hint"):
            reply = yield patient.dob
        else:
            return reply
    return reply


def _maybe_thanks(rnd: random.Random, p: float = 0.6) -> Generator[str, str, None]:
    if rnd.random() < p:
        yield rnd.choice(("thanks", "thank you", "ok thanks", "great, thanks"))


BALANCE = ("what do I owe", "how much do i owe", "whats my balance", "BAL",
           "how much is my bill", "what is my balance right now")


def balance(patient: Patient, rnd: random.Random, channel: str) -> Conversation:
    """The balance, then the itemised list by visit."""
    reply = yield rnd.choice(BALANCE)
    reply = yield from verify(patient, reply)
    goal = says(reply, "balance.nothing_due", "balance.credit")
    if says(reply, "balance.offer_itemized"):
        items = yield rnd.choice(("yes", "yes please", "sure", "YES"))
        goal = says(items, "visit.charged")
    yield from _maybe_thanks(rnd)
    return goal


DISPUTE = ("I think I was charged twice for the same thing", "this bill is wrong",
           "i was double billed", "why was i charged for a visit insurance should cover",
           "I want to dispute a charge")


def dispute(patient: Patient, rnd: random.Random, channel: str) -> Conversation:
    """A charge the patient thinks is wrong: the account is checked, a person offered."""
    if rnd.random() < 0.4:
        yield rnd.choice(("hi", "hello", "hey"))
    reply = yield rnd.choice(DISPUTE)
    reply = yield from verify(patient, reply)
    goal = says(reply, "dispute.findings", "dispute.no_findings", "dispute.already_open",
                "dispute.already_open_late")
    if "YES or NO" in reply:
        yield "yes" if rnd.random() < 0.3 else "no thanks"
    return goal


PLAN = ("can i set up a payment plan", "PLAN", "can I pay this in installments",
        "i cant pay it all at once")


def plan(patient: Patient, rnd: random.Random, channel: str) -> Conversation:
    """A payment plan: income, the options, a choice, the confirmation and the schedule."""
    reply = yield rnd.choice(PLAN)
    reply = yield from verify(patient, reply)
    if says(reply, "plan.exists", "plan.exists_next_due", "plan.nothing_due", "plan.too_small"):
        yield from _maybe_thanks(rnd)
        return True
    if says(reply, "plan.ask_income"):
        reply = yield f"about {rnd.choice((2500, 3200, 4000, 5500, 8000))} a month"
    if says(reply, "plan.unaffordable_ask_household"):
        yield str(rnd.randint(2, 5))
        return True
    if says(reply, "plan.ask_choice"):
        reply = yield rnd.choice(("1", "2", "the first one", "option 2"))
    if says(reply, "plan.confirm"):
        done = yield "yes"
        goal = says(done, "plan.created")
        yield from _maybe_thanks(rnd, 0.4)
        return goal
    return False


REFUND = ("where is my refund", "REFUND", "when do i get my refund",
          "i overpaid, can i get my money back")


def refund(patient: Patient, rnd: random.Random, channel: str) -> Conversation:
    """Refund status, and a refund request for a credit."""
    reply = yield rnd.choice(REFUND)
    reply = yield from verify(patient, reply)
    goal = says(reply, "refund.none") or "Refund of" in reply
    if says(reply, "refund.offer"):
        done = yield rnd.choice(("yes", "yes please"))
        goal = says(done, "refund.requested", "refund.not_possible")
    yield from _maybe_thanks(rnd, 0.5)
    return goal


FAQ = ("whats a deductible", "what is an EOB", "why did i get two bills",
       "what's the difference between a copay and coinsurance", "what is an out of pocket max",
       "my claim was denied what does that mean", "do you offer financial assistance",
       "can i get an itemized bill")


def faq(patient: Patient, rnd: random.Random, channel: str) -> Conversation:
    """A general billing question answered without an account (one or two of them)."""
    reply = yield rnd.choice(FAQ)
    goal = not says(reply, "not_understood")
    if rnd.random() < 0.3:
        reply = yield rnd.choice(FAQ)
        goal = goal and not says(reply, "not_understood")
    yield from _maybe_thanks(rnd, 0.4)
    return goal


# name, script, weight (a clinic's mix), nominal messages per conversation (SMS; the web
# chat asks the account number too). run_stage divides the offered rate by the weighted
# mean to get the arrival rate; the achieved rate is measured, not assumed.
CLINIC_MIX: list[tuple[str, Script, float, float]] = [
    ("balance", balance, 0.35, 3.6),
    ("faq", faq, 0.20, 1.7),
    ("dispute", dispute, 0.15, 3.4),
    ("plan", plan, 0.15, 5.0),
    ("refund", refund, 0.15, 3.1),
]
