"""Builders for the console tests: users, escalations, a console app on a real pipeline,
and logging in through the real login form."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy.orm import Session

from billing.core.clock import FixedClock
from billing.db.models import Escalation
from bot.console import mount_console
from bot.console.auth import create_user
from bot.pipeline import Pipeline
from bot.rasa_client import RasaClient
from clinic.settings import Settings

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(engine, username: str, role: str = "representative") -> None:
    with Session(engine) as s, s.begin():
        create_user(s, username, PASSWORD, role)


def add_escalation(engine, *, sender_key="web:chat-1", channel="web", patient_id=None,
                   reason="request_human", priority=2, created_at=NOW, status="queued",
                   assigned_to=None) -> int:
    with Session(engine) as s, s.begin():
        esc = Escalation(sender_key=sender_key, channel=channel, patient_id=patient_id,
                         reason=reason, priority=priority, status=status,
                         assigned_to=assigned_to, created_at=created_at)
        s.add(esc)
        s.flush()
        return esc.id


def console_app(engine, settings: Settings | None = None, senders: dict | None = None,
                now: datetime = NOW, rasa_url: str = "http://127.0.0.1:9") -> FastAPI:
    """The console on a bare app with a real pipeline (web chat needs no network)."""
    settings = settings or Settings(database_url=str(engine.url), rasa_url=rasa_url)
    clock = FixedClock(now)
    app = FastAPI()
    app.state.pipeline = Pipeline(settings, engine, RasaClient(settings.rasa_url, 2.0),
                                  senders or {}, clock=clock)
    app.state.clock = clock
    mount_console(app, settings, engine)
    return app


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def log_in(client, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the queue page)."""
    page = client.get("/console/login")
    resp = client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": csrf_of(page.text),
        "next": "/console/",
    }, follow_redirects=True)
    assert resp.status_code == 200, resp.text
    return csrf_of(resp.text)
