"""Senders: deliver one reply over its channel and report what the channel said."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | delivered | failed
    external_id: str | None = None
    error_code: str | None = None
    opted_out: bool = False  # the carrier says this number has opted out (Twilio 21610)
