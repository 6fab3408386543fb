"""Console login: argon2 hashes, sessions, CSRF on every form, roles."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.escalations.models import Escalation
from bot import cli
from bot.console.auth import (
    InvalidLogin,
    UserError,
    check_password,
    create_user,
    identify,
)
from bot.console.auth import (
    log_in as open_session,
)
from bot.console.console_models import ConsoleSession, ConsoleUser
from bot.console.web import safe_next
from tests.console_support import (
    NOW,
    PASSWORD,
    add_escalation,
    add_user,
    console_app,
    csrf_of,
    log_in,
)


@pytest.fixture
def client(engine):
    add_user(engine, "rita", "representative")
    add_user(engine, "sam", "supervisor")
    with TestClient(console_app(engine)) as c:
        yield c


def test_password_is_stored_as_an_argon2_hash(session):
    user = create_user(session, "Rita", PASSWORD, "representative")
    assert user.username == "rita"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert check_password(session, "rita", PASSWORD).id == user.id
    with pytest.raises(InvalidLogin):
        check_password(session, "rita", PASSWORD + "x")
    with pytest.raises(InvalidLogin):
        check_password(session, "nobody", PASSWORD)


@pytest.mark.parametrize("username,password,role", [
    ("rita", "short", "representative"),
    ("r", PASSWORD, "representative"),
    ("rita", PASSWORD, "admin"),
    ("bad name", PASSWORD, "supervisor"),
])
def test_bad_user_is_refused(session, username, password, role):
    with pytest.raises(UserError):
        create_user(session, username, password, role)
    assert session.scalars(select(ConsoleUser)).first() is None


def test_deactivated_user_cannot_log_in_and_loses_sessions(session):
    user = create_user(session, "rita", PASSWORD, "representative")
    token = open_session(session, "rita", PASSWORD, NOW)
    assert identify(session, token, NOW).username == "rita"
    user.active = False
    session.flush()
    assert identify(session, token, NOW) is None
    with pytest.raises(InvalidLogin):
        check_password(session, "rita", PASSWORD)


def test_session_expires(session):
    create_user(session, "rita", PASSWORD, "representative")
    token = open_session(session, "rita", PASSWORD, NOW)
    assert identify(session, token, NOW + timedelta(hours=11)) is not None
    assert identify(session, token, NOW + timedelta(hours=12, seconds=1)) is None
    stored = session.scalars(select(ConsoleSession.token_hash)).one()
    assert token not in stored  # only the token's digest is kept


def test_unauthenticated_request_is_redirected_to_login(client):
    for path in ("/console/", "/console/dashboard", "/console/escalations/1"):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/console/login?next=")
    assert client.get("/console/").url.path == "/console/login"


def test_login_without_its_csrf_token_is_refused(client):
    client.get("/console/login")
    resp = client.post("/console/login", data={"username": "rita", "password": PASSWORD})
    assert resp.status_code == 403
    assert "billbot_console" not in client.cookies


def test_wrong_password_gets_no_session(client):
    page = client.get("/console/login")
    resp = client.post("/console/login", data={
        "username": "rita", "password": "wrong password!", "csrf_token": csrf_of(page.text)})
    assert resp.status_code == 401
    assert "Wrong username or password" in resp.text
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_form_posted_without_csrf_token_is_refused(client, engine):
    esc_id = add_escalation(engine)
    token = log_in(client, "rita")
    assert client.post(f"/console/escalations/{esc_id}/take", data={}).status_code == 403
    assert client.post(f"/console/escalations/{esc_id}/take",
                       data={"csrf_token": token[:-2] + "xx"}).status_code == 403
    with Session(engine) as s:
        assert s.get(Escalation, esc_id).status == "queued"
    resp = client.post(f"/console/escalations/{esc_id}/take", data={"csrf_token": token},
                       follow_redirects=False)
    assert resp.status_code == 303
    with Session(engine) as s:
        assert s.get(Escalation, esc_id).assigned_to == "rita"


def test_representative_cannot_open_the_dashboard(client):
    log_in(client, "rita")
    assert client.get("/console/dashboard").status_code == 403
    assert "Dashboard" not in client.get("/console/").text


def test_supervisor_opens_the_dashboard(client):
    log_in(client, "sam")
    resp = client.get("/console/dashboard")
    assert resp.status_code == 200
    assert "<svg" in resp.text and "median time to first reply" in resp.text


def test_log_out_ends_the_session(client):
    token = log_in(client, "rita")
    cookie = client.cookies.get("billbot_console")
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 200
    client.cookies.set("billbot_console", cookie, path="/console")
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_login_redirects_only_inside_the_console():
    assert safe_next("/console/escalations/3") == "/console/escalations/3"
    for bad in ("https://evil.example/", "//evil.example/console/", "/other", "", None):
        assert safe_next(bad) == "/console/"


def test_user_add_command_reads_the_password_from_stdin(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["user", "add", "Sam", "--role", "supervisor", "--password-stdin"]) == 0
    assert "created supervisor sam" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["user", "add", "sam", "--role", "supervisor", "--password-stdin"]) == 1
    assert "already exists" in capsys.readouterr().err
