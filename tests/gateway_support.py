"""What the gateway tests share: settings pointing at the local doubles, a running gateway
app, signed Twilio requests and a look at the messages table."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from billing.db.engine import make_engine
from bot.gateway import create_app
from bot.messaging_models import Message, SmsOptOut
from clinic.settings import Settings
from tests.doubles.rasa import RasaDouble
from tests.doubles.telegram import TelegramDouble
from tests.doubles.twilio import TwilioDouble

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-for-tests-0001"
BOT_TOKEN = "123456789:AAFakeTokenForTheLocalDoubleOnly_xyz"
WEBHOOK_SECRET = "telegram-webhook-secret-0001"
PUBLIC = "https://billbot.example-clinic.test"
PATIENT_PHONE = "+15551234567"


@pytest.fixture
def twilio_api():
    with TwilioDouble(ACCOUNT_SID, AUTH_TOKEN) as d:
        yield d


@pytest.fixture
def telegram_api():
    with TelegramDouble(BOT_TOKEN) as d:
        yield d


@pytest.fixture
def rasa():
    with RasaDouble() as d:
        yield d


@pytest.fixture
def settings(sqlite_url, twilio_api, telegram_api, rasa) -> Settings:
    return Settings(
        database_url=sqlite_url, public_base_url=PUBLIC,
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_from_number="+15550100000", twilio_api_base_url=twilio_api.url,
        telegram_bot_token=BOT_TOKEN, telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_base_url=telegram_api.url, rasa_url=rasa.url, rasa_timeout_s=2.0,
        session_secret="statement-signing-secret-0001",
    )


class Gateway:
    """The gateway app running (lifespan included) behind a TestClient."""

    def __init__(self, settings: Settings, **kwargs):
        self.settings = settings
        self.app = create_app(settings, sweep_interval_s=3600, **kwargs)
        self.client = TestClient(self.app)
        self.engine = make_engine(settings.database_url)

    def __enter__(self):
        self.client.__enter__()
        return self

    def __exit__(self, *exc):
        self.client.__exit__(*exc)
        self.engine.dispose()

    def idle(self, timeout_s: float = 30.0) -> None:
        """Wait until the background processing of SMS and Telegram messages is done."""
        self.client.portal.call(self.app.state.pipeline.wait_idle, timeout_s)

    def sms(self, body: str, sid: str, phone: str = PATIENT_PHONE, *, token: str | None = None,
            signature: str | None = None, path: str = "/webhooks/twilio/sms", extra=None):
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": phone,
                "To": "+15550100000", "Body": body, "NumMedia": "0", **(extra or {})}
        if signature is None:
            signature = RequestValidator(token or AUTH_TOKEN).compute_signature(
                PUBLIC + path, form)
        headers = {"X-Twilio-Signature": signature} if signature != "" else {}
        return self.client.post(path, data=form, headers=headers)

    def status(self, sid: str, status: str, error_code: str | None = None, *, sign=True):
        form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
        if error_code:
            form["ErrorCode"] = error_code
        path = "/webhooks/twilio/status"
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(
                PUBLIC + path, form)
        return self.client.post(path, data=form, headers=headers)

    def messages(self, direction: str | None = None) -> list[Message]:
        with Session(self.engine) as s:
            q = select(Message).order_by(Message.id)
            if direction:
                q = q.where(Message.direction == direction)
            return list(s.scalars(q))

    def opt_out(self, phone: str = PATIENT_PHONE) -> SmsOptOut | None:
        with Session(self.engine) as s:
            return s.scalars(select(SmsOptOut).where(SmsOptOut.phone == phone)).first()


def without(settings: Settings, **changes) -> Settings:
    return settings.replace(**changes)
