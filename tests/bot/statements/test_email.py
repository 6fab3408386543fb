"""Email reminders and statement notices delivered to a real SMTP server (aiosmtpd, STARTTLS
with a test CA the client trusts), read back: headers, both parts, the statement link works,
no amount unless configured, one-click unsubscribe records the opt-out and nothing more is
sent, a bounce marks the address failing."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.core.clock import FixedClock
from billing.core.money import fmt
from billing.core.promises import PromisePolicy
from billing.db.models import AuditLog, LedgerEntry, Patient
from bot.channels.email import EmailChannel
from bot.channels.registry import Channels
from bot.console.summary import account_summary
from bot.messaging_models import EmailOptOut
from bot.reminders.policy import ReminderConfig
from bot.reminders.reminders_models import ReminderOutbox
from bot.reminders.run import ChannelSenders, run_reminders
from bot.statements.run import Progress, run_statements
from tests.doubles.smtp import SmtpDouble
from tests.gateway_support import PUBLIC, Gateway

pytest_plugins = ["tests.gateway_support"]
NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # noon in New York
ADDRESS = "rosa.diaz@example.org"
FAST = ReminderConfig(segments_per_second=1000.0)
URL = re.compile(r"https?://[^\s<>\"]+")


@pytest.fixture
def smtp(tmp_path):
    with SmtpDouble(tmp_path) as d:
        yield d


@pytest.fixture
def email_settings(settings, smtp):
    return settings.replace(smtp_host="127.0.0.1", smtp_port=smtp.port,
                            smtp_ca_file=smtp.ca_file,
                            email_from="Riverside Family Clinic <billing@clinic.test>",
                            email_reply_to="billing-office@clinic.test")


def _email_patient(engine, address=ADDRESS, *, consent=True) -> int:
    with Session(engine) as s, s.begin():
        p = Patient(account_number="A3000", first_name="Rosa", last_name="Diaz",
                    date_of_birth=date(1975, 5, 5), phone="+15550001111", email=address,
                    timezone="America/New_York", state="NY", preferred_channel="email",
                    email_consent=consent, sms_consent=False)
        s.add(p)
        s.flush()
        s.add_all([
            LedgerEntry(entry_id="C1", patient_id=p.id, type="charge", amount_cents=25000,
                        posted_date=date(2026, 3, 3), service_date=date(2026, 3, 3),
                        cpt_code="99213", description="Office visit", provider="Dr. Rivera",
                        claim_id="CL1", claim_status="adjudicated",
                        due_date=NOW.date() - timedelta(days=20)),
            LedgerEntry(entry_id="I1", patient_id=p.id, type="insurance_payment",
                        amount_cents=15000, posted_date=date(2026, 4, 1), claim_id="CL1"),
            LedgerEntry(entry_id="P1", patient_id=p.id, type="patient_payment",
                        amount_cents=2500, posted_date=date(2026, 4, 10), claim_id="CL1",
                        method="card"),
        ])
        return p.id


def _senders(settings) -> ChannelSenders:
    return ChannelSenders(Channels([EmailChannel(settings, clock=FixedClock(NOW))]))


def _remind(settings, now=NOW):
    return run_reminders(settings, _engine(settings), now, sender=_senders(settings),
                         config=FAST)


_engines: dict = {}


def _engine(settings):
    from billing.db.engine import make_engine

    return _engines.setdefault(settings.database_url, make_engine(settings.database_url))


def _parts(msg):
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_an_email_reminder_arrives_with_both_parts_one_click_unsubscribe_and_no_amount(
        email_settings, smtp):
    with Gateway(email_settings, clock=FixedClock(NOW)) as gw:
        pid = _email_patient(gw.engine)
        due = compute_balance(load_items(Session(gw.engine), pid)).due_now
        report = _remind(email_settings)
        assert report.sent == 1
        [got] = smtp.received
        msg = got.message
        assert got.tls  # STARTTLS was required and used
        assert got.recipients == [ADDRESS]
        assert msg["From"] == "Riverside Family Clinic <billing@clinic.test>"
        assert msg["To"] == ADDRESS and msg["Reply-To"] == "billing-office@clinic.test"
        assert msg["Subject"] == "A message from Riverside Family Clinic about your account"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Message-ID"] and msg["Date"]
        unsubscribe = re.fullmatch(r"<(https://[^>]+)>", msg["List-Unsubscribe"])[1]
        plain, html = _parts(msg)
        assert "balance due" in plain and "balance due" in html
        assert unsubscribe in plain and f'href="{unsubscribe}"' in html
        for body in (plain, html):  # no amount, service, provider or name in the email
            assert "$" not in body and fmt(due) not in body
            assert "Office visit" not in body and "Rivera" not in body and "Diaz" not in body
        # The statement link works, and shows the amount (behind its signature).
        link = next(u for u in URL.findall(plain) if "/statements/" in u)
        page = gw.client.get(link.removeprefix(PUBLIC))
        assert page.status_code == 200 and fmt(due) in page.text
        pdf = gw.client.get(link.removeprefix(PUBLIC) + "/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        # One click (RFC 8058): a POST with the one-click body records the opt-out.
        path = unsubscribe.removeprefix(PUBLIC)
        assert gw.client.get(path).status_code == 200  # the page asks; a GET changes nothing
        with Session(gw.engine) as s:
            assert s.scalars(select(EmailOptOut)).first() is None
        resp = gw.client.post(path, content=b"List-Unsubscribe=One-Click",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status_code == 200 and "unsubscribed" in resp.text
        with Session(gw.engine) as s:
            row = s.scalars(select(EmailOptOut)).one()
            assert (row.address, row.opted_out, row.source) == (ADDRESS, True, "one_click")
            assert s.get(Patient, pid).email_opted_out_at is not None
            assert s.scalars(select(AuditLog.action).where(AuditLog.patient_id == pid)).all() \
                == ["email_opt_out"]
    # Nothing more is sent: the next step (day 30) finds the address unsubscribed.
    later = _remind(email_settings, NOW + timedelta(days=12))
    assert later.sent == 0 and len(smtp.received) == 1
    assert later.reasons["unsubscribed from email"] == 1


def test_a_forged_unsubscribe_link_records_nothing(email_settings):
    with Gateway(email_settings, clock=FixedClock(NOW)) as gw:
        _email_patient(gw.engine)
        for token in ("x", "cm9zYS5kaWF6QGV4YW1wbGUub3Jn.forged", "é.é"):
            resp = gw.client.post(f"/email/unsubscribe/{token}",
                                  content=b"List-Unsubscribe=One-Click")
            assert resp.status_code == 404
        with Session(gw.engine) as s:
            assert s.scalars(select(EmailOptOut)).first() is None


def test_a_statement_notice_links_to_the_statement_and_states_no_amount_unless_configured(
        email_settings, smtp, tmp_path):
    engine = _engine(email_settings)
    pid = _email_patient(engine)
    channel = EmailChannel(email_settings, clock=FixedClock(NOW))
    quiet = lambda n: Progress(n, enabled=False)
    report = run_statements(email_settings, engine, NOW.date(), tmp_path / "a", now=NOW,
                            email=channel, progress=quiet)
    assert (report.statements, report.emailed, report.letters) == (1, 1, 0)
    msg = smtp.received[0].message
    plain, html = _parts(msg)
    assert msg["Subject"] == "Your statement from Riverside Family Clinic is ready"
    assert "$" not in plain and "$" not in html and not list(msg.iter_attachments())
    assert any("/statements/" in u for u in URL.findall(plain))
    assert "works until Jul 15, 2026" in plain  # the emailed link lasts 30 days
    # The same cycle again sends nothing.
    again = run_statements(email_settings, engine, NOW.date(), tmp_path / "b", now=NOW,
                           email=channel, progress=quiet)
    assert again.emailed == 0 and again.already_done == 1 and len(smtp.received) == 1
    # Configured to state the amount and attach the PDF, the next cycle's notice does.
    loud = email_settings.replace(statement_email_show_amount=True,
                                  statement_email_attach_pdf=True)
    run_statements(loud, engine, NOW.date() + timedelta(days=30), tmp_path / "c", now=NOW,
                   email=EmailChannel(loud, clock=FixedClock(NOW)), progress=quiet)
    msg = smtp.received[1].message
    due = compute_balance(load_items(Session(engine), pid)).due_now
    assert fmt(due) in _parts(msg)[0]
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF")


def test_a_bounce_at_the_relay_marks_the_address_failing_and_stops_email(
        email_settings, smtp):
    engine = _engine(email_settings)
    pid = _email_patient(engine)
    smtp.refuse(ADDRESS)
    report = _remind(email_settings)
    assert report.sent == 0 and report.failed == 1
    with Session(engine) as s:
        p = s.get(Patient, pid)
        assert p.email_failing_at is not None and p.email_failure == "smtp550"
        assert s.scalars(select(ReminderOutbox.error_code)).one() == "smtp550"
    later = _remind(email_settings, NOW + timedelta(days=12))
    assert later.reasons["email address failing (bounced)"] == 1


def test_the_bounce_webhook_needs_its_secret_and_marks_hard_bounces(email_settings):
    secret = "bounce-secret-0001"
    s = email_settings.replace(email_bounce_webhook_secret=secret)
    with Gateway(s, clock=FixedClock(NOW)) as gw:
        pid = _email_patient(gw.engine)
        body = {"bounces": [{"recipient": ADDRESS.upper(), "status": "5.1.1"}]}
        assert gw.client.post("/webhooks/email/bounce", json=body).status_code == 403
        assert gw.client.post("/webhooks/email/bounce", json=body,
                              headers={"X-Bounce-Secret": "wrong"}).status_code == 403
        soft = {"bounces": [{"recipient": ADDRESS, "status": "4.2.2"}]}
        assert gw.client.post("/webhooks/email/bounce", json=soft,
                              headers={"X-Bounce-Secret": secret}).json() == {"marked": 0}
        bad = {"bounces": [{"recipient": ADDRESS, "status": "bounced"}]}
        assert gw.client.post("/webhooks/email/bounce", json=bad,
                              headers={"X-Bounce-Secret": secret}).status_code == 400
        with Session(gw.engine) as db:
            assert db.get(Patient, pid).email_failing_at is None
        resp = gw.client.post("/webhooks/email/bounce", json=body,
                              headers={"X-Bounce-Secret": secret})
        assert resp.json() == {"marked": 1}
        with Session(gw.engine) as db:
            assert db.get(Patient, pid).email_failure == "5.1.1"
        # The representative sees it on the account.
        with Session(gw.engine) as db:
            summary = account_summary(db, pid, NOW.date(), PromisePolicy())
        assert summary.email_status == "Email failing: bounced 2026-06-15 (5.1.1)"
