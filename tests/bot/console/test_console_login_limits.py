"""Console login throttling: failures per username (known or not) and per client address
lock with 429 and a plain message, a success resets the username's count, the log never
holds the password, and a supervisor unlocks from the Locks page."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.db.models import AuditLog
from bot import cli
from clinic.settings import Settings
from tests.console_support import NOW, PASSWORD, add_user, console_app, csrf_of, log_in

LIMITED = {"login_max_failures_user": 3, "login_max_failures_address": 6,
           "login_window_minutes": 15, "login_lock_minutes": 15}


@pytest.fixture
def client(engine):
    add_user(engine, "rita", "representative")
    add_user(engine, "sam", "supervisor")
    settings = Settings(database_url=str(engine.url), rasa_url="http://127.0.0.1:9", **LIMITED)
    with TestClient(console_app(engine, settings)) as c:
        yield c


def attempt(client, username: str, password: str):
    page = client.get("/console/login")
    return client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": csrf_of(page.text),
        "next": "/console/"})


def test_repeated_failures_for_one_user_are_answered_429_even_with_the_right_password(
        client, caplog):
    caplog.set_level(logging.INFO)
    codes = [attempt(client, "rita", f"guess-{i}-wrong").status_code for i in range(2)]
    third = attempt(client, "rita", "guess-3-wrong")
    assert codes == [401, 401] and third.status_code == 429
    assert "Too many failed logins. Try again in 15 minutes" in third.text
    assert int(third.headers["Retry-After"]) == 900
    right = attempt(client, "rita", PASSWORD)
    assert right.status_code == 429 and "billbot_console=" not in right.headers.get(
        "set-cookie", "")
    assert attempt(client, "sam", PASSWORD + "x").status_code == 401  # another user is not held up
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "guess-" not in logged and PASSWORD not in logged and "rita" not in logged


def test_an_unknown_username_is_throttled_the_same_way(client):
    codes = [attempt(client, "nobody", "whatever-it-is").status_code for _ in range(4)]
    assert codes == [401, 401, 429, 429]


def test_a_successful_login_resets_the_count(client):
    for _ in range(2):
        assert attempt(client, "rita", "wrong-password").status_code == 401
    log_in(client, "rita")
    client.cookies.clear()
    codes = [attempt(client, "rita", "wrong-password").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_many_usernames_from_one_address_lock_the_address(client):
    codes = [attempt(client, f"user{i}", "wrong-password").status_code for i in range(7)]
    assert codes == [401] * 5 + [429, 429]
    assert attempt(client, "rita", PASSWORD).status_code == 429


def test_a_supervisor_unlocks_a_user_from_the_locks_page(engine, client):
    for i in range(3):
        attempt(client, "rita", f"wrong-{i}")
    with TestClient(client.app) as sup:
        csrf = log_in(sup, "sam")
        page = sup.get("/console/locks")
        assert "user rita" in page.text
        resp = sup.post("/console/locks/logins/unlock",
                        data={"csrf_token": csrf, "key": "login_user:rita"},
                        follow_redirects=True)
        assert "Login unlocked." in resp.text and "user rita" not in resp.text
    client.cookies.clear()
    log_in(client, "rita")
    with Session(engine) as s:
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert "console_login_locked" in actions and "unlock_console_login" in actions


def test_a_representative_may_not_unlock_logins(engine, client):
    csrf = log_in(client, "rita")
    assert "Console logins" not in client.get("/console/locks").text
    resp = client.post("/console/locks/logins/unlock",
                       data={"csrf_token": csrf, "key": "login_user:sam"})
    assert resp.status_code == 403


def test_the_lock_runs_out(engine):
    add_user(engine, "rita")
    settings = Settings(database_url=str(engine.url), **LIMITED)
    with TestClient(console_app(engine, settings)) as c:
        for i in range(3):
            attempt(c, "rita", f"wrong-{i}")
    later = NOW + timedelta(minutes=settings.login_lock_minutes)
    with TestClient(console_app(engine, settings, now=later)) as c:
        log_in(c, "rita")


def test_the_user_unlock_command_lifts_a_login_lock(engine, client, monkeypatch, capsys):
    for i in range(3):
        attempt(client, "sam", f"wrong-{i}")
    assert attempt(client, "sam", PASSWORD).status_code == 429
    monkeypatch.setenv("DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    assert cli.main(["user", "unlock", "Sam"]) == 0
    assert "unlocked Sam" in capsys.readouterr().out
    log_in(client, "sam")
    assert cli.main(["user", "unlock", "sam"]) == 0
    assert "was not locked" in capsys.readouterr().out
