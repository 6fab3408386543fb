"""Helpers shared by the data-collecting forms: leaving a form early, cancel words."""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions import templates as t
from actions.base import Turn

STOP_WORDS = {"stop", "cancel", "quit", "nevermind", "never mind", "forget it", "no thanks",
              "cancelar", "cancela", "olvidalo", "olvídalo", "ya no", "no gracias", "salir",
              "alto", "parar"}


def wants_to_stop(turn: Turn) -> bool:
    """True when the whole message is a stop phrase such as "stop", "cancel" or "never mind" (case
    and a trailing "." or "!" ignored)."""
    return turn.text.strip().lower().strip(".!") in STOP_WORDS


def leave_form(turn: Turn, slots: tuple[str, ...], then: str | None) -> list[dict[str, Any]]:
    """End the active form now; its finishing action runs `then` (or nothing)."""
    if then is None:
        turn.say(t.cancelled())
    return [*(SlotSet(s, "n/a") for s in slots), SlotSet("escape_to", then),
            SlotSet("requested_slot", None)]
