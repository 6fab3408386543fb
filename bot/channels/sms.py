"""Twilio SMS adapter: signature check against the configured public URL, and the form
Twilio posts turned into an InboundMessage."""
from __future__ import annotations

import re

from twilio.request_validator import RequestValidator

from bot.pipeline import InboundMessage
from clinic.settings import Settings

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class BadSmsRequest(ValueError):
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
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    phone = (form.get("From") or "").strip()
    if not sid or len(sid) > 64:
        raise BadSmsRequest("MessageSid missing")
    if not E164.match(phone):
        raise BadSmsRequest("From is not an E.164 number")
    return InboundMessage(channel="sms", channel_user=phone, text=form.get("Body") or "",
                          external_id=sid)
