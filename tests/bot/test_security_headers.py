"""Every page of the gateway (web chat, statement pages, the console, their static files and
error pages) forbids framing and sniffing, sends no referrer and a CSP without inline script;
session cookies are HttpOnly, SameSite and Secure when the public URL is https."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from billing.core.clock import FixedClock
from bot.console import mount_console
from clinic.statement_links import statement_url
from tests.console_support import PASSWORD, add_escalation, add_user, csrf_of, log_in
from tests.dialogue_factories import add_patient
from tests.gateway_support import Gateway

pytest_plugins = ["tests.gateway_support"]
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def assert_hardened(resp) -> None:
    h = resp.headers
    csp = h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, resp.url
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"


@pytest.fixture
def gw(settings):
    gateway = Gateway(settings, clock=FixedClock(NOW))
    mount_console(gateway.app, settings, gateway.app.state.engine)
    # PUBLIC is https, so the console's cookies are Secure: the client must speak https.
    gateway.client = TestClient(gateway.app, base_url="https://testserver")
    with gateway:
        yield gateway


def test_every_page_and_file_is_sent_with_the_security_headers(gw):
    with Session(gw.engine) as s, s.begin():
        patient_id = add_patient(s, account_number="A7000", dob=date(1985, 3, 14)).id
    esc = add_escalation(gw.engine, patient_id=patient_id, created_at=NOW)
    add_user(gw.engine, "sam", "supervisor")
    anonymous = ["/chat", "/static/chat.js", "/static/chat.css", "/health",
                 statement_url(gw.settings, patient_id, NOW).split("example-clinic.test")[1],
                 "/statements/forged", "/console/login", "/console/static/console.js",
                 "/console/", "/no/such/page"]
    for path in anonymous:
        assert_hardened(gw.client.get(path, follow_redirects=False))
    log_in(gw.client, "sam")
    pages = ["/console/", "/console/queue.fragment", f"/console/escalations/{esc}",
             f"/console/escalations/{esc}/transcript.fragment", "/console/dashboard",
             "/console/locks", "/console/escalations/999999"]
    for path in pages:
        resp = gw.client.get(path)
        assert resp.status_code in (200, 404), path
        assert_hardened(resp)
    bad_form = gw.client.post("/console/logout", data={})
    assert bad_form.status_code == 403
    assert_hardened(bad_form)
    assert_hardened(gw.client.post("/webhooks/rest/webhook", content=b"{"))


def test_the_console_cookies_are_httponly_samesite_and_secure_on_https(gw):
    assert gw.settings.public_base_url.startswith("https://")
    add_user(gw.engine, "sam", "supervisor")
    page = gw.client.get("/console/login")
    login_cookie = page.headers["set-cookie"].lower()
    assert "httponly" in login_cookie and "samesite=strict" in login_cookie
    assert "secure" in login_cookie
    resp = gw.client.post("/console/login", data={
        "username": "sam", "password": PASSWORD, "csrf_token": csrf_of(page.text),
        "next": "/console/"}, follow_redirects=False)
    session_cookie = next(c for c in resp.headers.get_list("set-cookie")
                          if c.startswith("billbot_console="))
    lowered = session_cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "secure" in lowered
    assert "path=/console" in lowered


def test_over_plain_http_the_cookies_are_not_marked_secure(settings):
    local = settings.replace(public_base_url="http://localhost:8000")
    gateway = Gateway(local)
    mount_console(gateway.app, local, gateway.app.state.engine)
    with gateway:
        cookie = gateway.client.get("/console/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" not in cookie
