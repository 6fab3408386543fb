"""A representative in headless Chromium sees an account locked by date-of-birth guessing
over several web sessions on the console's Locks page, lifts it, and the patient can verify
again; the lift is in the audit log, and the CSP refused nothing on the way."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.db.engine import make_engine
from billing.db.models import AuditLog
from clinic.settings import Settings
from tests.console_support import PASSWORD, add_user
from tests.dialogue_factories import add_patient
from tests.verify_support import VerifyChat

pytestmark = pytest.mark.browser
SETTINGS = Settings(verification_account_max_failures=5)


def test_a_representative_sees_and_lifts_an_account_lock(start_gateway, sqlite_url, browser):
    engine = make_engine(sqlite_url)
    add_user(engine, "rita")
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as s:
        patient = add_patient(s, account_number="A7000", dob=date(1985, 3, 14))
        s.commit()
        for month in range(1, 6):
            chat = VerifyChat.web(s, SETTINGS, now)
            chat.start()
            reply = chat.say(f"A7000 {month:02d}/01/1985")
        assert "too many attempts" in reply
    gw = start_gateway()
    browser.get(gw.url + "/console/login")
    browser.find_element(By.ID, "username").send_keys("rita")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "queue")))
    browser.find_element(By.ID, "nav-locks").click()
    row = WebDriverWait(browser, 15).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, 'tr[data-account="A7000"]')))
    assert "5" in row.text
    row.find_element(By.CSS_SELECTOR, "button.lift-account").click()
    WebDriverWait(browser, 15).until(ec.text_to_be_present_in_element(
        (By.TAG_NAME, "main"), "Verification lock lifted."))
    assert browser.find_elements(By.CSS_SELECTOR, 'tr[data-account="A7000"]') == []
    assert browser.find_element(By.ID, "no-account-locks").is_displayed()
    refused = [e["message"] for e in browser.get_log("browser")
               if "Content Security Policy" in e["message"]]
    assert refused == []  # the pages' own scripts and styles all pass the CSP
    with Session(engine, expire_on_commit=False) as s:
        chat = VerifyChat.web(s, SETTINGS, datetime.now(UTC))
        chat.start()
        assert "Thanks Maria" in chat.say("A7000 03/14/1985")
        assert chat.verified_patient() == patient.id
        assert s.scalars(select(AuditLog.actor).where(
            AuditLog.action == "lift_verification_lock")).all() == ["rep:rita"]
    engine.dispose()
