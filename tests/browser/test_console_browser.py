"""A representative in headless Chromium: log in, take an escalation, reply, see the reply
reach the patient by SMS (real twilio client, Twilio double), see the patient's next text
arrive live, and return the conversation to the bot."""
from __future__ import annotations

import time
from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.clock import utcnow
from billing.db.engine import make_engine
from billing.db.models import Escalation
from bot.console.delivery import HANDBACK_TEXT
from tests.console_support import PASSWORD, add_escalation, add_user
from tests.dialogue_factories import add_entry, add_patient

PHONE = "+15550100101"
pytestmark = pytest.mark.browser


def seed(db_url: str) -> int:
    engine = make_engine(db_url)
    add_user(engine, "rita")
    with Session(engine) as s, s.begin():
        p = add_patient(s, phone=PHONE)
        add_entry(s, p, "charge", 12500, claim_id="C9", claim_status="self_pay",
                  service_date=date(2026, 1, 5), description="Office visit", cpt_code="99213")
        pid = p.id
    esc_id = add_escalation(engine, sender_key=f"sms:{PHONE}", channel="sms", patient_id=pid,
                            reason="request_human", priority=2, created_at=utcnow())
    engine.dispose()
    return esc_id


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def log_in(browser, url):
    browser.get(url + "/console/")
    assert "/console/login" in browser.current_url  # unauthenticated: sent to the login page
    browser.find_element(By.ID, "username").send_keys("rita")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "queue")))


def take_and_reply(browser, gw, esc_id, reply):
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-escalation="{esc_id}"]')
    row.find_element(By.CSS_SELECTOR, "button.take").click()
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "reply-text")))
    browser.find_element(By.ID, "reply-text").send_keys(reply)
    browser.find_element(By.ID, "send-reply").click()
    WebDriverWait(browser, 15).until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "Reply sent."))
    assert wait_for(lambda: reply in gw.sms_to(PHONE), what="the SMS at the Twilio double")


def test_representative_takes_replies_sees_live_messages_and_returns_to_bot(start_gateway, sqlite_url, browser):
    esc_id = seed(sqlite_url)
    gw = start_gateway()
    log_in(browser, gw.url)
    take_and_reply(browser, gw, esc_id, "Hi, this is Rita from billing. How can I help?")

    # The patient's next text comes to the representative, live, without a reload.
    browser.execute_script("window.__sameDocument = true;")
    gw.patient_sms(PHONE, "Why is my visit $125?")
    WebDriverWait(browser, 20).until(
        ec.text_to_be_present_in_element((By.ID, "transcript"), "Why is my visit $125?"))
    assert browser.execute_script("return window.__sameDocument === true;")
    assert "$125.00" in browser.find_element(By.CSS_SELECTOR, "aside.account").text

    browser.find_element(By.ID, "return-note").send_keys("Explained the self-pay visit.")
    browser.find_element(By.ID, "return-to-bot").click()
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "queue")))
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        esc = s.get(Escalation, esc_id)
        assert (esc.status, esc.note) == ("closed", "Explained the self-pay visit.")
        assert esc.first_reply_at is not None
    engine.dispose()
    assert wait_for(lambda: HANDBACK_TEXT in gw.sms_to(PHONE), what="the hand-back SMS")


@pytest.mark.e2e
def test_after_return_to_bot_the_assistant_answers_the_next_message(start_gateway, sqlite_url, browser, tmp_path):
    from bot.processes import free_port, start_action_server, start_rasa
    from clinic.settings import ROOT

    model = ROOT / "models" / "current"
    if not model.exists():
        pytest.fail("no trained model at models/current: run `billbot train` first")
    esc_id = seed(sqlite_url)
    actions = start_action_server(free_port(), log_path=tmp_path / "actions.log",
                                  database_url=sqlite_url)
    try:
        rasa_port = free_port()
        rasa = start_rasa(rasa_port, model=model, action_url=actions.url, work_dir=tmp_path)
        try:
            gw = start_gateway(rasa_url=f"http://127.0.0.1:{rasa_port}")
            log_in(browser, gw.url)
            take_and_reply(browser, gw, esc_id, "Hello from Rita.")
            browser.find_element(By.ID, "return-note").send_keys("Answered.")
            browser.find_element(By.ID, "return-to-bot").click()
            WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "queue")))
            before = len(gw.sms_to(PHONE))
            gw.patient_sms(PHONE, "hello")
            answers = wait_for(lambda: gw.sms_to(PHONE)[before:], timeout=60,
                               what="the assistant's answer")
            assert answers and all(a not in ("Hello from Rita.", HANDBACK_TEXT) for a in answers)
            engine = make_engine(sqlite_url)
            with Session(engine) as s:
                assert s.scalars(select(Escalation.status).where(Escalation.id == esc_id)).one() == "closed"
            engine.dispose()
        finally:
            rasa.stop()
    finally:
        actions.stop()
