"""A stand-in for Rasa's REST channel, for unit-level tests: it records what the gateway
sends and answers with replies the test decides; it can be slowed or shut down."""
from __future__ import annotations

from collections.abc import Callable

from tests.doubles.http import HttpDouble, Recorded, Reply


class RasaDouble(HttpDouble):
    def __init__(self, answer: Callable[[str, str], list[str]] | None = None):
        self.answer = answer or (lambda sender, text: [f"Got it: {text}"])
        self.delay_s = 0.0
        super().__init__()

    @property
    def received(self) -> list[dict]:
        return [r.params for r in self.requests if r.path == "/webhooks/rest/webhook"]

    def respond(self, rec: Recorded) -> Reply:
        if rec.path != "/webhooks/rest/webhook":
            return Reply(404, {"error": "not found"})
        sender, text = rec.params["sender"], rec.params["message"]
        return Reply(200, [{"recipient_id": sender, "text": t} for t in self.answer(sender, text)],
                     delay_s=self.delay_s)
