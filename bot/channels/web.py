"""The web chat channel: the REST format Rasa users know, {"sender", "message"}. The client's
sender is only ever a session id under web:, so no web client can speak as an SMS number or
a Telegram chat. Replies travel back in the HTTP response (or the page's poll)."""
from __future__ import annotations

import re

from bot.channels.base import BadChannelRequest, Channel, InboundMessage, SendResult

MAX_MESSAGE_CHARS = 2000
MAX_SESSION_CHARS = 64
# Reading a session's replies needs a session id nobody can guess: the chat page makes a
# random UUID (122 random bits); a short hand-picked id can post but never read back.
MIN_READ_SESSION_CHARS = 32
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.-]")


class BadWebRequest(BadChannelRequest):
    """A request the web chat cannot take; the message says why."""


def session_id(sender: object) -> str:
    """The client's sender reduced to the characters a session id may have."""
    if not isinstance(sender, str):
        raise BadWebRequest('"sender" must be a string')
    cleaned = _NOT_ALLOWED.sub("", sender)[:MAX_SESSION_CHARS]
    if not cleaned:
        raise BadWebRequest('"sender" needs letters, digits, "-", "_" or "."')
    return cleaned


def inbound_from_json(body: object) -> InboundMessage:
    """The message in a REST body; BadWebRequest says what is wrong with it."""
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


class WebChannel(Channel):
    """The chat page and REST clients: no authentication (a session can only ever speak
    and read as itself) and no limits on length."""

    name = "web"

    def parse(self, body: object) -> InboundMessage:
        return inbound_from_json(body)

    async def send(self, user: str, text: str) -> SendResult:
        # The reply is in the HTTP response already: sending is recording.
        return SendResult("delivered")
