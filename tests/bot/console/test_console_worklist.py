"""The representatives' worklist: accounts with open findings, largest amount at stake first,
each opening an account page with its findings (the clinic's own marked as not for the
patient); viewing is audited."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.db.models import AuditLog
from billing.importer import import_sources, sources_from_paths
from tests.console_support import add_user, console_app, log_in

FIXTURE = Path(__file__).parents[2] / "fixtures" / "clinic_alloc"
NOW = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def test_worklist_orders_accounts_by_amount_at_stake_and_opens_each(engine):
    with Session(engine) as s, s.begin():
        import_sources(s, sources_from_paths([FIXTURE]), now=NOW)
    add_user(engine, "rep")
    client = TestClient(console_app(engine, now=NOW))
    log_in(client, "rep")
    page = client.get("/console/worklist")
    assert page.status_code == 200
    rows = re.findall(r'<a href="/console/accounts/(\d+)">(\w+)</a></td>\s*'
                      r'<td class="num">([^<]+)</td>', page.text)
    # A500: 25.00 + 540.00 + 15.00 = 580.00 at stake; A502: the late 30.00 refund; A501: none.
    assert [(acct, amount) for _, acct, amount in rows] == [("A500", "$580.00"),
                                                          ("A502", "$30.00")]
    account = client.get(f"/console/accounts/{rows[0][0]}")
    assert account.status_code == 200
    assert "price differs: $540.00" in account.text
    assert "not told to the patient" in account.text
    assert "Due now" in account.text and "$36.00" in account.text
    assert client.get("/console/accounts/999999").status_code == 404
    with Session(engine) as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.actor == "rep:rep")).all()
    assert "console_view_worklist" in actions and "console_view_account" in actions


def test_worklist_needs_a_login(engine):
    client = TestClient(console_app(engine, now=NOW))
    resp = client.get("/console/worklist", follow_redirects=False)
    assert resp.status_code == 303 and "/console/login" in resp.headers["location"]
