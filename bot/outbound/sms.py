"""Sending SMS through the twilio client (its base URL configurable, for local doubles).

Error 21610 (the number has opted out) is recorded as an opt-out and never retried; a 429
or 5xx from Twilio is retried twice with a short backoff; anything else fails the message.
"""
from __future__ import annotations

import logging
import time

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.outbound import SendResult
from clinic.settings import Settings

log = logging.getLogger(__name__)

OPTED_OUT_CODE = 21610
_RETRYABLE_CODES = {20429}
_BACKOFF_S = (0.5, 1.5)


class SmsSender:
    def __init__(self, settings: Settings, backoff_s: tuple[float, ...] = _BACKOFF_S):
        self.from_number = settings.twilio_from_number
        self.status_callback = settings.public_base_url.rstrip("/") + "/webhooks/twilio/status"
        self.backoff_s = backoff_s
        self.client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=TwilioHttpClient(timeout=10),
        )
        if settings.twilio_api_base_url:
            self.client.api.base_url = settings.twilio_api_base_url.rstrip("/")

    def send(self, phone: str, text: str) -> SendResult:
        """Send one message (blocking: call it from a worker thread)."""
        attempt = 0
        while True:
            try:
                msg = self.client.messages.create(
                    to=phone, from_=self.from_number, body=text,
                    status_callback=self.status_callback,
                )
                return SendResult("sent", external_id=msg.sid)
            except TwilioRestException as exc:
                code = exc.code
                if code == OPTED_OUT_CODE:
                    log.info("sms refused: number opted out", extra={"error_code": str(code)})
                    return SendResult("failed", error_code=str(code), opted_out=True)
                retryable = exc.status == 429 or exc.status >= 500 or code in _RETRYABLE_CODES
                if not retryable or attempt >= len(self.backoff_s):
                    log.warning("sms send failed", extra={"error_code": str(code or exc.status),
                                                          "http_status": exc.status})
                    return SendResult("failed", error_code=str(code or exc.status))
            except requests.ConnectionError:
                # Refused before anything was sent: safe to try again.
                if attempt >= len(self.backoff_s):
                    log.warning("sms send failed: Twilio unreachable")
                    return SendResult("failed", error_code="unreachable")
            except requests.Timeout:
                # The request may have reached Twilio; retrying could send it twice.
                log.warning("sms send timed out")
                return SendResult("failed", error_code="timeout")
            time.sleep(self.backoff_s[attempt])
            attempt += 1
