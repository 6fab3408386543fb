"""Web chat adapter: the REST format Rasa users know, {"sender", "message"}. The client's
sender is only ever a session id under web:, so no web client can speak as an SMS number or
a Telegram chat."""
from __future__ import annotations

import re

from bot.pipeline import InboundMessage

MAX_MESSAGE_CHARS = 2000
MAX_SESSION_CHARS = 64
# Reading a session's replies needs a session id nobody can guess: the chat page makes a
# random UUID (122 random bits); a short hand-picked id can post but never read back.
MIN_READ_SESSION_CHARS = 32
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


def poll_query(sender: object, after: object) -> tuple[str, int]:
    """The session and the last message id a chat page has shown, from ?sender=&after=."""
    if not isinstance(sender, str) or not sender:
        raise BadWebRequest('"sender" is required')
    session = session_id(sender)
    if session != sender or len(session) < MIN_READ_SESSION_CHARS:
        raise BadWebRequest(
            f'"sender" must be the chat\'s random session id ({MIN_READ_SESSION_CHARS} to '
            f'{MAX_SESSION_CHARS} letters, digits, "-", "_" or ".")')
    raw = "0" if after in (None, "") else after
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise BadWebRequest('"after" must be a message id (a whole number, 0 or more)')
    return session, int(raw)
