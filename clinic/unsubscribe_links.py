"""Signed unsubscribe links for emails (List-Unsubscribe, RFC 8058 one-click).

The token carries the email address it was sent to, signed with HMAC-SHA256 under
Settings.session_secret. It does not expire: an unsubscribe link must keep working long after
the email was sent. Anything wrong with a token reads as "not a link of ours".
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from clinic.settings import Settings


class UnsubscribeLinksDisabled(RuntimeError):
    """No session secret is configured, so no link can be signed."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(secret: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), b"unsubscribe:" + payload.encode(), hashlib.sha256)
    return _b64(mac.digest())


def make_token(settings: Settings, address: str) -> str:
    """The token of the unsubscribe link for this address (lower-cased)."""
    if not settings.session_secret:
        raise UnsubscribeLinksDisabled("SESSION_SECRET is not set")
    payload = _b64(address.strip().lower().encode())
    return f"{payload}.{_sign(settings.session_secret, payload)}"


def unsubscribe_url(settings: Settings, address: str) -> str:
    """The one-click unsubscribe URL for this address."""
    return f"{settings.public_base_url.rstrip('/')}/email/unsubscribe/{make_token(settings, address)}"


def read_token(settings: Settings, token: str) -> str | None:
    """The address of a valid token; None for anything else."""
    if (not settings.session_secret or len(token) > 600 or not token.isascii()
            or token.count(".") != 1):
        return None
    payload, signature = token.split(".")
    if not hmac.compare_digest(_sign(settings.session_secret, payload), signature):
        return None
    try:
        address = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return address if "@" in address else None
