"""What every billbot action shares: one database session and clock reading per turn, the
channel identity from the gateway-built sender key, the frustration check, and the gate that
makes every disclosing action confirm verification itself."""
from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import templates as t
from actions.parsing import Details, clean, read_details
from billing import audit
from billing.accounts import AccountSnapshot, load_snapshot
from billing.core.clock import Clock
from billing.db.engine import engine_for
from billing.escalations.service import escalate
from billing.verification import (
    ChannelIdentity,
    channel_identity,
    current_verified_patient,
    locked_until,
)
from clinic import wording
from clinic.office_hours import away_notice
from clinic.settings import Settings, load_settings

FRUSTRATION_WORDS = re.compile(
    r"\b(fuck\w*|shit\w*|damn\w*|crap|wtf|ridiculous|outrageous|unacceptable|scam\w*|"
    r"rip[- ]?off|insane|useless|stupid|fed up|sick of|worst|furious|pissed|bs)\b",
    re.IGNORECASE,
)
ESCAPE_CONFIDENCE = 0.6
# The slot that keeps each detail a patient states (Details field -> slot), set on every turn.
REMEMBERED = {"offer_monthly": "said_offer", "income_annual": "said_income",
              "household": "said_household"}
REGISTRY: dict[str, type[BillbotAction]] = {}


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Clinic settings loaded from the environment (clinic.settings.load_settings)."""
    return load_settings()


def is_frustrated(text: str) -> bool:
    """Swearing, 'this is ridiculous', or a shouted message (several words in capitals)."""
    if FRUSTRATION_WORDS.search(text):
        return True
    words = re.findall(r"[A-Za-z]+", text)
    letters = "".join(words)
    return len(words) >= 3 and len(letters) >= 12 and letters.isupper()


def turn_language(tracker: Tracker) -> str:
    """The language the gateway chose for this turn (message metadata 'lang',
    bot/conversation_language.py); English when absent or unknown."""
    meta = tracker.latest_message.get("metadata")
    lang = meta.get("lang") if isinstance(meta, dict) else None
    return lang if isinstance(lang, str) and lang in wording.languages() else wording.DEFAULT_LANG


def gateway_identity(tracker: Tracker) -> ChannelIdentity:
    """The channel identity from the gateway-built sender key; metadata that disagrees with
    it (a client claiming another channel or number) makes the sender unlinked."""
    identity = channel_identity(tracker.sender_id)
    meta = tracker.latest_message.get("metadata")
    claimed = isinstance(meta, dict) and ("channel" in meta or "channel_user" in meta)
    if claimed and (meta.get("channel"), str(meta.get("channel_user"))) != (
            identity.channel, identity.user):
        return ChannelIdentity("unknown", identity.user)
    return identity


@dataclass
class Turn:
    """One action's view of the conversation turn."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    session: Session
    settings: Settings
    now: datetime
    identity: ChannelIdentity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = gateway_identity(self.tracker)

    @property
    def sender_key(self) -> str:
        return self.tracker.sender_id

    @property
    def lang(self) -> str:
        """The language this turn is answered in (and dates are read in)."""
        return turn_language(self.tracker)

    @property
    def text(self) -> str:
        return clean(self.tracker.latest_message.get("text"))

    @property
    def intent(self) -> str:
        return (self.tracker.latest_message.get("intent") or {}).get("name") or ""

    @property
    def confidence(self) -> float:
        value = (self.tracker.latest_message.get("intent") or {}).get("confidence")
        return float(value) if isinstance(value, (int, float)) else 0.0

    def entity(self, name: str) -> str:
        for ent in self.tracker.latest_message.get("entities") or []:
            if isinstance(ent, dict) and ent.get("entity") == name:
                value = clean(ent.get("value"))
                if value:
                    return value
        return ""

    @property
    def client_ref(self) -> str | None:
        """The gateway's keyed hash of a web client's address (bot/client_address.py), for
        counting failed verifications per address; None on other channels."""
        meta = self.tracker.latest_message.get("metadata")
        ref = meta.get("client_ref") if isinstance(meta, dict) else None
        if self.identity.channel != "web" or not isinstance(ref, str):
            return None
        return ref if re.fullmatch(r"[0-9a-f]{32}", ref) else None

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def details(self) -> Details:
        """What this message states about income, household and amounts (actions.parsing)."""
        return read_details(self.text, {name: self.entity(name)
                                        for name in ("income", "household_size")})

    def said(self, detail: str) -> int | None:
        """A detail the patient gave in this message or earlier in the conversation:
        'offer_monthly', 'income_annual' (cents) or 'household' (never asked twice)."""
        now = getattr(self.details, detail)
        if now is not None:
            return int(now)
        kept = self.slot(REMEMBERED[detail])
        return int(kept) if isinstance(kept, str) and kept.isdigit() else None

    def say(self, *messages: str | list[str]) -> None:
        for message in messages:
            for text in message if isinstance(message, list) else [message]:
                self.dispatcher.utter_message(text=text)

    def verified_patient(self) -> int | None:
        return current_verified_patient(
            self.session, self.sender_key, self.now,
            idle_minutes=self.settings.verification_idle_minutes,
        )

    @property
    def away(self) -> str | None:
        """When a person will answer, if the office is closed at this turn's instant."""
        return away_notice(self.settings, self.now)

    def hand_to_representative(self, reason: str, patient_id: int | None = None) -> None:
        """Queue this conversation for a representative (the one writer), and audit it."""
        if patient_id is None:
            patient_id = self.verified_patient()
        escalate(session=self.session, sender_key=self.sender_key,
                 channel=self.identity.channel, patient_id=patient_id, reason=reason,
                 now=self.now)
        audit.record(self.session, "bot", "escalate", patient_id, at=self.now, reason=reason,
                     channel=self.identity.channel)

    def audit(self, action: str, patient_id: int, **detail: object) -> None:
        audit.record(self.session, "bot", action, patient_id, at=self.now,
                     channel=self.identity.channel, **detail)


class BillbotAction(Action, ABC):
    """An action with a Turn; subclasses set NAME and implement respond()."""

    NAME = ""
    check_frustration = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.NAME:
            REGISTRY[cls.NAME] = cls

    def name(self) -> str:
        return self.NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        """rasa-sdk awaits this on its event loop; the turn's database work runs in a worker
        thread, so one slow query never stalls the other conversations on this server."""
        return await asyncio.to_thread(self.run_turn, dispatcher, tracker)

    def run_turn(self, dispatcher: CollectingDispatcher,
                 tracker: Tracker) -> list[dict[str, Any]]:
        """One turn in one session: the frustration check, the reply, one commit."""
        config = settings()
        with (wording.speaking(turn_language(tracker)),
              Session(engine_for(config.database_url), expire_on_commit=False) as session):
            turn = Turn(dispatcher, tracker, session, config, Clock().now())
            events: list[dict[str, Any]] = remember_details(turn)
            if self.check_frustration:
                events += frustration_check(turn)
            events += self.respond(turn)
            session.commit()
        return events

    @abstractmethod
    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        """The reply and events of this action."""


def remember_details(turn: Turn) -> list[dict[str, Any]]:
    """Keep what this message states (income, household, a monthly offer) for the rest of the
    conversation, so no question is asked twice; the action's own events may clear them."""
    details = turn.details
    return [SlotSet(slot, str(getattr(details, name)))
            for name, slot in REMEMBERED.items() if getattr(details, name) is not None]


def frustration_check(turn: Turn) -> list[dict[str, Any]]:
    """Escalate once per conversation when the patient is evidently upset."""
    if turn.slot("escalated") or not is_frustrated(turn.text):
        return []
    turn.hand_to_representative("frustration")
    turn.say(t.frustration(turn.settings.office_hours, away=turn.away))
    return [SlotSet("escalated", True)]


def run_action(name: str, turn: Turn) -> list[dict[str, Any]]:
    """Run another action's logic inside this turn (keeps rules simple: no follow-up chains)."""
    action = REGISTRY.get(name)
    return action().respond(turn) if action else []


def start_verification(turn: Turn, pending: str) -> list[dict[str, Any]]:
    """Ask who the sender is, remembering the request to answer afterwards."""
    if locked_until(turn.session, turn.sender_key, turn.now) is not None:
        turn.say(t.still_locked(turn.settings.office_hours, turn.settings.clinic_phone))
        return [SlotSet("pending_action", None)]
    return [
        SlotSet("pending_action", pending),
        SlotSet("verify_result", None),
        SlotSet("verify_stage", None),
        SlotSet("verify_name", None),
        SlotSet("verify_dob", None),
        SlotSet("verify_account", None),
        FollowupAction("verify_form"),
    ]


class AccountAction(BillbotAction):
    """An action that discloses account data: it asks the database who is verified, every time."""

    audit_action = ""

    def respond(self, turn: Turn) -> list[dict[str, Any]]:
        patient_id = turn.verified_patient()
        if patient_id is None:
            return start_verification(turn, self.NAME)
        snapshot = load_snapshot(turn.session, patient_id)
        turn.audit(self.audit_action or self.NAME.removeprefix("action_"), patient_id)
        return self.answer(turn, snapshot)

    @abstractmethod
    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        """The reply about a verified account."""

