#!/usr/bin/env python
"""Screenshots of the representatives' console (queue, conversation, dashboard) into screenshots/.

Builds a throwaway SQLite database with the demo clinic, a supervisor and a few escalated
conversations, serves the gateway with the console on a free port and photographs it with
Debian's headless Chromium. Usage: .venv/bin/python scripts/screenshot_console.py [OUT_DIR]
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.clock import utcnow
from billing.db.engine import make_engine
from billing.db.models import Escalation, Patient
from bot import cli
from bot.console.auth import create_user
from bot.console.console_models import ConsoleReply, EscalationNote
from bot.gateway import create_app
from bot.messaging_models import Message
from bot.processes import free_port
from clinic.settings import Settings

PASSWORD = "screenshot-password"
CONVERSATIONS = [  # (reason, priority, minutes waiting, patient's words, the bot's answer)
    ("dispute", 2, 42, "I was charged twice for the same lab test, I want this fixed.",
     "I'm sorry about that. I've opened a dispute and a representative will look at it."),
    ("verification_locked", 1, 12, "It keeps saying my birth date is wrong!",
     "For your security I can't continue here. A representative will contact you."),
    ("request_human", 2, 95, "Can I talk to a person about a payment plan?",
     "Of course. I've asked a representative to join this conversation."),
    ("low_confidence", 3, 180, "what is this 99214 thing on my bill",
     "Sorry, I didn't get that. Let me find someone who can help."),
]


def seed(url: str) -> int:
    os.environ["DATABASE_URL"] = url
    cli.main(["demo-data", "--patients", "120"])
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as s, s.begin():
        create_user(s, "sam", PASSWORD, "supervisor")
        patients = s.scalars(select(Patient).where(Patient.phone.is_not(None))
                             .order_by(Patient.id).limit(len(CONVERSATIONS))).all()
        shown = None
        for p, (reason, prio, minutes, said, answered) in zip(patients, CONVERSATIONS, strict=True):
            key, at = f"sms:{p.phone}", now - timedelta(minutes=minutes)
            s.add(Message(direction="in", channel="sms", sender_key=key, text=said,
                          status="answered", created_at=at, updated_at=at))
            s.add(Message(direction="out", channel="sms", sender_key=key, text=answered,
                          status="delivered", created_at=at + timedelta(seconds=3),
                          updated_at=at + timedelta(seconds=3)))
            esc = Escalation(sender_key=key, channel="sms", patient_id=p.id, reason=reason,
                             priority=prio, status="queued", created_at=at + timedelta(seconds=3))
            s.add(esc)
            s.flush()
            shown = shown or esc
        shown.status, shown.assigned_to = "assigned", "sam"
        reply_at = shown.created_at + timedelta(minutes=6)
        shown.first_reply_at = reply_at
        reply = Message(direction="out", channel="sms", sender_key=shown.sender_key,
                        text="Hi, this is Sam from billing. I'm looking at your lab charges now.",
                        status="delivered", created_at=reply_at, updated_at=reply_at)
        s.add(reply)
        s.flush()
        s.add(ConsoleReply(message_id=reply.id, escalation_id=shown.id, author="sam"))
        s.add(EscalationNote(escalation_id=shown.id, author="sam", body="Two 80053 lines on the same day: checking with the lab.",
                             created_at=reply_at + timedelta(minutes=1)))
        s.add(Message(direction="in", channel="sms", sender_key=shown.sender_key,
                      text="Thank you! It's the one from January.", status="for_representative",
                      created_at=reply_at + timedelta(minutes=2), updated_at=reply_at + timedelta(minutes=2)))
        shown_id = shown.id
    engine.dispose()
    return shown_id


def main(out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="billbot-shots-"))
    url = f"sqlite:///{work / 'billbot.db'}"
    esc_id = seed(url)
    port = free_port()
    settings = Settings(database_url=url, public_base_url=f"http://127.0.0.1:{port}")
    app = create_app(settings)
    if not any(getattr(r, "path", "") == "/console/login" for r in app.routes):
        from bot.console import mount_console

        mount_console(app, settings, app.state.engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1440,1000",
                 f"--user-data-dir={work / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        base = f"http://127.0.0.1:{port}/console"
        driver.get(base + "/login")
        driver.find_element(By.ID, "username").send_keys("sam")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login").click()
        time.sleep(0.5)
        for name, path in (("console-queue", "/"), ("console-conversation", f"/escalations/{esc_id}"),
                           ("console-dashboard", "/dashboard")):
            driver.get(base + path)
            time.sleep(0.7)
            target = out_dir / f"{name}.png"
            driver.save_screenshot(str(target))
            print(target)
    finally:
        driver.quit()
        server.should_exit = True
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots"))
