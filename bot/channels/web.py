"""Web chat adapter: the REST format Rasa users know, {"sender", "message"}. The client's
sender is only ever a session id under web:, so no web client can speak as an SMS number or
a Telegram chat."""
from __future__ import annotations

import re

from bot.pipeline import InboundMessage

MAX_MESSAGE_CHARS = 2000
MAX_SESSION_CHARS = 64
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.-]")


class BadWebRequest(ValueError):
    """A request the web chat cannot take; the message says why."""


def session_id(sender: object) -> str:
    if not isinstance(sender, str):
        raise BadWebRequest('"sender" must be a string')
    cleaned = _NOT_ALLOWED.sub("", sender)[:MAX_SESSION_CHARS]
    if not cleaned:
        raise BadWebRequest('"sender" needs letters, digits, "-", "_" or "."')
    return cleaned


def inbound_from_json(body: object) -> InboundMessage:
    if not isinstance(body, dict):
        raise BadWebRequest('send a JSON object: {"sender": "...", "message": "..."}')
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise BadWebRequest('"message" must be a non-empty string')
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadWebRequest(f'"message" is longer than {MAX_MESSAGE_CHARS} characters')
    return InboundMessage(channel="web", channel_user=session_id(body.get("sender")),
                          text=message)
