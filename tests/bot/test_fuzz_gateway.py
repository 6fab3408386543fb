"""The gateway as `billbot serve` runs it (webhooks, web chat, statement pages, console,
/health and /metrics), served by uvicorn and fuzzed by schemathesis from its own OpenAPI
schema: no input gets a 5xx, and input that breaks the schema gets a 4xx. Every generated
case that needs credentials is sent twice: as generated, and authentic (the Twilio webhooks
signed with the real auth token, Telegram's with its secret, the console's pages and forms as
a logged-in supervisor with the form's CSRF token), so the handlers behind the checks are
fuzzed too (all but logging out, which would end the fuzzer's session). /console/events is
left out: it streams for as long as the client listens."""
from __future__ import annotations

import os
import threading
import time
from datetime import date

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from billing.db.migrate import upgrade
from bot.app import create_app
from bot.processes import free_port
from clinic.settings import Settings
from tests.console_support import PASSWORD, add_escalation, add_user, csrf_of
from tests.dialogue_factories import add_entry, add_patient
from tests.doubles.rasa import RasaDouble
from tests.doubles.telegram import TelegramDouble
from tests.doubles.twilio import TwilioDouble
from tests.gateway_support import ACCOUNT_SID, AUTH_TOKEN, BOT_TOKEN, PUBLIC, WEBHOOK_SECRET

CHECKS = [not_a_server_error, negative_data_rejection]
TWILIO = ("/webhooks/twilio/sms", "/webhooks/twilio/status")


def _serve(app, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    return server, thread


def fuzz_settings(database_url: str, twilio_url: str = "", telegram_url: str = "",
                  rasa_url: str = "http://127.0.0.1:9") -> Settings:
    return Settings(
        database_url=database_url, public_base_url=PUBLIC, twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_from_number="+15550100000",
        twilio_api_base_url=twilio_url, telegram_bot_token=BOT_TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET, telegram_api_base_url=telegram_url,
        rasa_url=rasa_url, rasa_timeout_s=2.0, session_secret="fuzz-secret-0001",
        # The limits would answer most generated messages with 429: lift them here.
        web_messages_per_minute_session=10**6, web_messages_per_minute_address=10**6,
        login_max_failures_user=10**6, login_max_failures_address=10**6,
    )


def _openapi() -> dict:
    """The served gateway's own schema (building the app opens no connection)."""
    app = create_app(fuzz_settings("sqlite://"))
    try:
        return app.openapi()
    finally:
        app.state.engine.dispose()


schema = schemathesis.openapi.from_dict(_openapi()).exclude(path="/console/events")
# 25 cases per operation and mode in `make test`; BILLBOT_FUZZ_EXAMPLES=500 digs deeper.
schema.config.generation.update(modes=["positive", "negative"],
                                max_examples=int(os.environ.get("BILLBOT_FUZZ_EXAMPLES", "25")))


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'billbot.db'}"
    upgrade(url)
    with TwilioDouble(ACCOUNT_SID, AUTH_TOKEN) as twilio, TelegramDouble(BOT_TOKEN) as tg, \
            RasaDouble() as rasa:
        app = create_app(fuzz_settings(url, twilio.url, tg.url, rasa.url),
                             sweep_interval_s=3600)
        _seed(app.state.engine)
        port = free_port()
        server, thread = _serve(app, port)
        try:
            base_url = f"http://127.0.0.1:{port}"
            yield base_url, _log_in(base_url)
        finally:
            server.should_exit = True
            thread.join(15)



def _seed(engine) -> None:
    """A supervisor, and a patient with an escalated conversation, so that small generated
    ids reach real rows (escalation 1 and 2, patient 1)."""
    add_user(engine, "sam", "supervisor")
    with Session(engine) as s, s.begin():
        patient = add_patient(s, account_number="A1000", phone="+15551234567")
        add_entry(s, patient, "charge", 12500, claim_id="C1", claim_status="self_pay",
                  service_date=date(2026, 1, 5), description="Office visit",
                  due_date=date(2026, 2, 5))
        patient_id = patient.id
    add_escalation(engine, sender_key="sms:+15551234567", channel="sms", patient_id=patient_id)
    add_escalation(engine, sender_key="web:fuzz-session", channel="web", status="assigned",
                   assigned_to="sam")


def _log_in(base_url: str) -> tuple[str, str]:
    """A supervisor's console session cookie and CSRF token, through the real login form."""
    with httpx.Client(base_url=base_url) as c:
        page = c.get("/console/login")
        login_cookie = page.cookies["billbot_console_login"]
        resp = c.post("/console/login", data={
            "username": "sam", "password": PASSWORD, "csrf_token": csrf_of(page.text),
            "next": "/console/"}, headers={"Cookie": f"billbot_console_login={login_cookie}"})
        session = resp.cookies["billbot_console"]
        queue = c.get("/console/", headers={"Cookie": f"billbot_console={session}"})
        return session, csrf_of(queue.text)


def _string_form(body: object) -> dict[str, str] | None:
    if isinstance(body, dict) and all(isinstance(k, str) and isinstance(v, str)
                                      for k, v in body.items()):
        return body
    return None


def _authentic(case, base_url: str, console: tuple[str, str]) -> httpx.Response | None:
    """The case sent with the credentials it needs, when the test can compute them."""
    path = case.operation.path
    if path == "/webhooks/telegram":
        return case.call(base_url=base_url, allow_redirects=False,
                         headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    if path in TWILIO and (form := _string_form(case.body)) is not None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
        return case.call(base_url=base_url, allow_redirects=False,
                         headers={"X-Twilio-Signature": signature})
    if _behind_login(path) and path != "/console/logout" and case.method.upper() == "POST":
        session, csrf = console
        form = {**(_string_form(case.body) or {}), "csrf_token": csrf}
        return httpx.post(base_url + case.formatted_path, params=case.query, data=form,
                          headers={"Cookie": f"billbot_console={session}"}, timeout=30)
    return None


def _behind_login(path: str) -> bool:
    return path.startswith("/console/") and path != "/console/login"


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error(case, live_gateway):
    base_url, console = live_gateway
    if case.operation.path == "/health":
        # It takes no input; 503 is its answer while a dependency (here Rasa's action
        # server, which the suite does not run) is down.
        response = case.call(base_url=base_url)
        assert response.status_code in (200, 405, 503), response.status_code
        return
    if _behind_login(case.operation.path):
        # Logged out, every console URL redirects to the login page, whatever its input.
        anonymous = case.call(base_url=base_url, allow_redirects=False)
        assert anonymous.status_code in (303, 405), anonymous.status_code
        case.call_and_validate(base_url=base_url, checks=CHECKS, allow_redirects=False,
                               headers={"Cookie": f"billbot_console={console[0]}"})
    else:
        case.call_and_validate(base_url=base_url, checks=CHECKS, allow_redirects=False)
    authentic = _authentic(case, base_url, console)
    if authentic is not None:
        assert authentic.status_code < 500, (case.operation.path, authentic.status_code)
