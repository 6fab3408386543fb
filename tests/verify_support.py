"""A verification conversation driven through the real verify form action (actions/verify.py)
on a real database: each message is one turn of the form, its slot events carried over."""
from __future__ import annotations

import uuid
from datetime import datetime

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.base import Turn
from actions.verify import ValidateVerifyForm
from billing.verification import current_verified_patient
from clinic.settings import Settings


class VerifyChat:
    """One conversation session of one sender: start() opens the form, say() answers it."""

    def __init__(self, session: Session, sender: str, settings: Settings, now: datetime,
                 client_ref: str | None = None):
        self.session, self.sender, self.settings, self.now = session, sender, settings, now
        self.client_ref = client_ref
        self.slots: dict = {}

    @classmethod
    def web(cls, session, settings, now, client_ref=None) -> VerifyChat:
        return cls(session, f"web:{uuid.uuid4()}", settings, now, client_ref)

    def _turn(self, text: str) -> str:
        channel, _, user = self.sender.partition(":")
        meta = {"channel": {"web": "web", "sms": "sms", "tg": "telegram"}[channel],
                "channel_user": user}
        if self.client_ref:
            meta["client_ref"] = self.client_ref
        message = {"text": text, "intent": {"name": "inform", "confidence": 0.9},
                   "entities": [], "metadata": meta}
        tracker = Tracker(self.sender, dict(self.slots), message, [], False, None, {}, None)
        turn = Turn(CollectingDispatcher(), tracker, self.session, self.settings, self.now)
        for event in ValidateVerifyForm().respond(turn):
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.session.commit()
        return " ".join(m["text"] for m in turn.dispatcher.messages)

    def start(self, text: str = "what's my balance") -> str:
        self.slots = {"requested_slot": None}
        reply = self._turn(text)
        self.slots["requested_slot"] = "verify_result"
        return reply

    def say(self, text: str) -> str:
        return self._turn(text)

    @property
    def result(self) -> str | None:
        return self.slots.get("verify_result")

    def verified_patient(self) -> int | None:
        return current_verified_patient(self.session, self.sender, self.now)
