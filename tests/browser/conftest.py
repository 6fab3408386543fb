"""Headless Chromium (Debian's chromium and chromedriver, driven by selenium) against the real
gateway app with the console mounted, served by uvicorn on a free port, sending SMS with the
real twilio client to the Twilio double."""
from __future__ import annotations

import shutil
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.processes import free_port
from clinic.settings import Settings
from tests.doubles.twilio import TwilioDouble

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "browser-test-token"


@dataclass
class Gateway:
    url: str
    settings: Settings
    twilio: TwilioDouble
    app: object

    def patient_sms(self, phone: str, text: str) -> None:
        """The patient texts the clinic: Twilio's signed webhook to the gateway."""
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone,
                "To": self.settings.twilio_from_number, "Body": text}
        url = self.settings.public_base_url + "/webhooks/twilio/sms"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
        resp = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert resp.status_code == 200, resp.text

    def sms_to(self, phone: str) -> list[str]:
        return [p.get("Body") for p in self.twilio.sent if p.get("To") == phone]


def serve(app, port: int):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    return server, thread


@pytest.fixture
def start_gateway(sqlite_url):
    started = []

    def start(rasa_url: str = "http://127.0.0.1:9", **overrides) -> Gateway:
        twilio = TwilioDouble(ACCOUNT_SID, AUTH_TOKEN)
        port = free_port()
        settings = Settings(
            database_url=sqlite_url, public_base_url=f"http://127.0.0.1:{port}",
            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
            twilio_from_number="+15550009999", twilio_api_base_url=twilio.url,
            rasa_url=rasa_url, session_secret="browser-" + uuid.uuid4().hex, **overrides,
        )
        app = create_app(settings, sweep_interval_s=1.0)  # the console included
        server, thread = serve(app, port)
        started.append((server, thread, twilio))
        return Gateway(settings.public_base_url, settings, twilio, app)

    yield start
    for server, thread, twilio in started:
        server.should_exit = True
        thread.join(15)
        twilio.close()


@pytest.fixture
def browser(tmp_path):
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("headless Chromium is needed: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports, for tests
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
