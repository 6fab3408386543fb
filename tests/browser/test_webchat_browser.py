"""A patient in headless Chromium on the web chat page: the assistant's reply shows once, and a
representative's reply sent later (Pipeline.deliver, as the console sends it) appears on the
page by itself, once; over the message limit the page shows the assistant's plain reply."""
from __future__ import annotations

import asyncio
import time

import pytest
from selenium.webdriver.common.by import By

from billing.db.engine import make_engine
from bot.pipeline import Pipeline
from bot.rasa_client import RasaClient
from tests.browser.test_console_browser import wait_for

pytestmark = pytest.mark.browser
REP_REPLY = "Hi, this is Rita from billing. I can help with that."


def bubbles(browser, kind: str) -> list[str]:
    return [li.text for li in browser.find_elements(By.CSS_SELECTOR, f"#log li.{kind}")]


def test_a_representatives_reply_appears_in_the_web_chat_once(start_gateway, browser):
    gw = start_gateway()  # Rasa unreachable: the patient is told and queued for a person
    browser.get(gw.url + "/chat")
    session = browser.execute_script("return sessionStorage.getItem('billbot-session')")
    assert len(session) == 36
    browser.find_element(By.ID, "message").send_keys("Can someone call me about my bill?")
    browser.find_element(By.CSS_SELECTOR, "#composer button").click()
    [unavailable] = wait_for(lambda: bubbles(browser, "bot"), what="the assistant's reply")
    assert "can't answer right now" in unavailable

    engine = make_engine(gw.settings.database_url)
    rep_pipeline = Pipeline(gw.settings, engine, RasaClient(gw.settings.rasa_url, 1.0))
    asyncio.run(rep_pipeline.deliver(f"web:{session}", [REP_REPLY]))
    engine.dispose()

    wait_for(lambda: REP_REPLY in bubbles(browser, "bot"), what="the representative's reply")
    time.sleep(7)  # two more polls: nothing is shown twice
    assert bubbles(browser, "bot") == [unavailable, REP_REPLY]
    assert bubbles(browser, "me") == ["Can someone call me about my bill?"]


def test_over_the_message_limit_the_page_shows_the_plain_reply(start_gateway, browser):
    gw = start_gateway(web_messages_per_minute_session=1)
    browser.get(gw.url + "/chat")
    for text in ("hello", "hello again"):
        browser.find_element(By.ID, "message").send_keys(text)
        browser.find_element(By.CSS_SELECTOR, "#composer button").click()
        wait_for(lambda: not browser.find_element(By.CSS_SELECTOR, "#composer button")
                 .get_attribute("disabled"), what="the reply")
    [refused] = wait_for(lambda: bubbles(browser, "error"), what="the limit's reply")
    assert refused.startswith("You're sending messages faster than I can answer.")
    assert gw.settings.clinic_phone in refused
