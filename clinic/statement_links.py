"""Signed, expiring links to a patient's itemised statement page (GET /statements/<token>).

The token carries the patient id and an expiry, signed with HMAC-SHA256 under
Settings.session_secret; anything wrong with it reads as "no such page".
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from clinic.settings import Settings


class StatementLinksDisabled(RuntimeError):
    """No session secret is configured, so no link can be signed."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), b"statement:" + payload.encode(), hashlib.sha256)
    return _b64(mac.digest())


def make_token(settings: Settings, patient_id: int, now: datetime,
               ttl: timedelta | None = None) -> str:
    """A signed token for the patient's statement link that expires after `ttl` (default:
    the configured statement_link_ttl_minutes)."""
    if not settings.session_secret:
        raise StatementLinksDisabled("SESSION_SECRET is not set")
    ttl = ttl if ttl is not None else timedelta(minutes=settings.statement_link_ttl_minutes)
    expires = int((now + ttl).timestamp())
    payload = _b64(f"{patient_id}.{expires}".encode())
    return f"{payload}.{_sign(settings.session_secret, payload)}"


def statement_url(settings: Settings, patient_id: int, now: datetime,
                  ttl: timedelta | None = None) -> str:
    """A link to the patient's statement, valid for `ttl` (default statement_link_ttl_minutes)
    from now."""
    token = make_token(settings, patient_id, now, ttl)
    return f"{settings.public_base_url.rstrip('/')}/statements/{token}"


def email_link_ttl(settings: Settings) -> timedelta:
    """How long a statement link sent by email stays valid (an email is read days later)."""
    return timedelta(days=settings.statement_email_link_ttl_days)


def read_token(settings: Settings, token: str, now: datetime) -> int | None:
    """The patient id of a valid, unexpired token; None for anything else."""
    if (not settings.session_secret or len(token) > 200 or not token.isascii()
            or token.count(".") != 1):
        return None
    payload, signature = token.split(".")
    if not hmac.compare_digest(_sign(settings.session_secret, payload), signature):
        return None
    try:
        patient, expires = _unb64(payload).decode().split(".")
        patient_id, expires_at = int(patient), int(expires)
    except (ValueError, UnicodeDecodeError):
        return None
    if now.timestamp() >= expires_at:
        return None
    return patient_id
