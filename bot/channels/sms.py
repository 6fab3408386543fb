"""The Twilio SMS channel: the signature check against the configured public URL, the form
Twilio posts turned into an InboundMessage, sending by segments through SmsSender, and the
consent words (bot.channels.sms_controls) that US carriers require."""
from __future__ import annotations

import re

from anyio import to_thread
from twilio.request_validator import RequestValidator

from bot import message_store as store
from bot.channels.base import (
    BadChannelRequest,
    Channel,
    Conversation,
    InboundMessage,
    RequestRefused,
    SendResult,
)
from bot.channels.sms_controls import SMS_CONTROLS
from bot.channels.sms_transport import SmsSender
from bot.segments import split_segments
from clinic.settings import Settings

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
OPTED_OUT_BY_CARRIER = "21610"


class BadSmsRequest(BadChannelRequest):
    """A signed request that still lacks what an inbound SMS needs."""


def public_url(settings: Settings, path: str, query: str) -> str:
    """The URL Twilio signed: the configured public base URL, never one rebuilt from
    X-Forwarded-* headers a client could set."""
    url = settings.public_base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def signature_ok(settings: Settings, url: str, form, signature: str | None) -> bool:
    """True only with an auth token configured and a matching X-Twilio-Signature."""
    if not settings.twilio_auth_token or not signature:
        return False
    return RequestValidator(settings.twilio_auth_token).validate(url, form, signature)


def inbound_from_form(form) -> InboundMessage:
    """The message in Twilio's inbound form; BadSmsRequest without a sid or a valid From."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    phone = (form.get("From") or "").strip()
    if not sid or len(sid) > 64:
        raise BadSmsRequest("MessageSid missing")
    if not E164.match(phone):
        raise BadSmsRequest("From is not an E.164 number")
    return InboundMessage(channel="sms", channel_user=phone, text=form.get("Body") or "",
                          external_id=sid)


class SmsChannel(Channel):
    """Texts to and from E.164 numbers through Twilio."""

    name = "sms"
    controls = SMS_CONTROLS

    def __init__(self, settings: Settings, transport: SmsSender | None = None):
        self.settings = settings
        self.transport = transport or SmsSender(settings)

    def authenticate(self, path: str, query: str, form, signature: str | None) -> None:
        """Raise RequestRefused unless Twilio signed this request with our auth token."""
        url = public_url(self.settings, path, query)
        if not signature_ok(self.settings, url, form, signature):
            raise RequestRefused("bad or missing Twilio signature")

    def parse(self, form) -> InboundMessage:
        return inbound_from_form(form)

    def split(self, text: str) -> list[str]:
        return split_segments(text)

    async def send(self, user: str, text: str) -> SendResult:
        # The twilio client blocks (and sleeps between its retries): off the event loop.
        return await to_thread.run_sync(self.transport.send, user, text)

    async def suppressed(self, user: str, conversation: Conversation) -> bool:
        return await conversation.db(store.is_opted_out, user)

    async def refused(self, user: str, conversation: Conversation) -> None:
        await conversation.db(store.record_opt_out, user, "twilio_21610",
                              conversation.clock.now())

    @property
    def rate_key(self) -> str | None:
        return str(self.key(self.transport.from_number))
