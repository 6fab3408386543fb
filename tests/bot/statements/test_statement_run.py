"""The statement PDF of a demo account read back as text (pypdf): every amount computed
from the database by the one rule, and plan options whose installments sum exactly to the
balance. A statement run over the demo clinic: the print batch and its manifest for the
patients with no digital channel, emails for the email patients, nothing for accounts with
nothing due."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import find_by_account_number, load_items
from billing.core.aging import BUCKETS, age_account
from billing.core.balances import compute_balance
from billing.core.chargemaster import load_chargemaster
from billing.core.money import fmt
from billing.db.models import Patient
from bot.channels.email import EmailChannel
from bot.demo_clinic import generate, load
from bot.statements.content import statement_content
from bot.statements.pdf import statement_pdf
from bot.statements.run import Progress, run_statements
from bot.statements.statement_models import StatementNotice
from clinic.settings import Settings
from clinic.wording import day
from tests.doubles.smtp import SmtpDouble

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
QUIET = lambda n: Progress(n, enabled=False)


@pytest.fixture
def demo(engine):
    settings = Settings(database_url=str(engine.url), session_secret="statement-secret-1")
    clinic = generate(42, 300, TODAY, load_chargemaster(settings.chargemaster_path))
    with Session(engine) as s, s.begin():
        load(s, clinic, NOW)
    return settings


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _largest_due(s: Session) -> str:
    ids = s.scalars(select(Patient.account_number).order_by(Patient.id)).all()
    return max(ids, key=lambda a: compute_balance(
        load_items(s, find_by_account_number(s, a).id)).due_now)


@pytest.mark.parametrize("account", ["A1001", "largest"])
def test_a_statement_pdf_states_every_amount_of_the_one_rule_and_the_plans(engine, demo,
                                                                         account):
    with Session(engine) as s:
        account = _largest_due(s) if account == "largest" else account
        pid = find_by_account_number(s, account).id
        items = load_items(s, pid)
        content = statement_content(s, pid, demo, TODAY)
        pdf = statement_pdf(content)
    words = _text(pdf)
    flat = " ".join(words.split())
    b = compute_balance(items)  # straight from the database, as the page and assistant do
    assert b.due_now > 0
    for amount in (b.total, b.due_now, b.pending_insurance):
        assert fmt(amount) in words
    for v in b.visits:
        for amount in (v.charge, v.insurance_paid, v.adjustments, v.patient_paid, v.remaining,
                       v.pending_insurance):
            assert fmt(amount) in words
        assert v.description.split(" (")[0] in flat
    aging = age_account(items, TODAY)
    for name in BUCKETS:
        assert fmt(aging.buckets[name]) in words
    assert account in words and day(TODAY) in words
    assert "Financial assistance is available" in flat and demo.assistance_link in flat
    assert demo.payment_link in flat
    # Two or three plan options, each summing exactly to what is due.
    options = content.plans.options
    assert 2 <= len(options) <= 3
    for o in options:
        assert sum(i.amount for i in o.installments) == b.due_now
        assert fmt(o.monthly) in words and f"{o.months} months" in flat
        assert day(o.end_date) in words


def test_the_statement_address_block_is_the_patients_mailing_address(engine, demo):
    with Session(engine) as s:
        p = find_by_account_number(s, "A1000")
        content = statement_content(s, p.id, demo, TODAY)
        words = _text(statement_pdf(content))
        assert f"{p.first_name} {p.last_name}".upper() in words
        assert f"{p.city} {p.state} {p.zip}".upper() in words


def test_a_statement_run_over_the_demo_clinic(engine, demo, tmp_path):
    with SmtpDouble(tmp_path) as smtp:
        settings = demo.replace(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                smtp_ca_file=smtp.ca_file,
                                email_from="Riverside Family Clinic <billing@clinic.test>")
        out = tmp_path / "cycle"
        report = run_statements(settings, engine, TODAY, out, now=NOW,
                                email=EmailChannel(settings), progress=QUIET)
        received = list(smtp.received)
    with Session(engine) as s:
        patients = s.scalars(select(Patient).order_by(Patient.id)).all()
        due = {p.account_number: compute_balance(load_items(s, p.id)).due_now for p in patients}
        notices = {n.patient_id: n for n in s.scalars(select(StatementNotice))}
    owing = {a for a, d in due.items() if d > 0}
    # A PDF for every account with an amount due, and none for the others.
    assert {f.stem for f in (out / "statements").iterdir()} == owing
    assert report.statements == len(owing) and len(owing) < len(patients)
    # Emails for the email patients with an amount due and a usable address.
    email_patients = {p.email.lower() for p in patients if p.account_number in owing
                      and p.preferred_channel == "email" and p.email_consent
                      and p.email_opted_out_at is None}
    assert email_patients and {r.recipients[0] for r in received} == email_patients
    assert report.emailed == len(received) == len(email_patients)
    # Letters for the patients with no digital channel: preferred channel none, or nothing
    # usable (the demo's opted-out SMS patients without an email).
    no_digital = {p.account_number for p in patients if p.account_number in owing and (
        p.preferred_channel == "none" or not (
            (p.email and p.email_consent) or (p.phone and p.sms_consent
                                              and p.sms_opted_out_at is None)
            or p.telegram_chat_id))}
    with report.manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert no_digital and {r["account_number"] for r in rows} == no_digital
    batch = PdfReader(str(report.batch))
    assert len(batch.pages) == sum(int(r["pages"]) for r in rows) == report.letter_pages
    by_account = {p.account_number: p for p in patients}
    for r in rows:
        p = by_account[r["account_number"]]
        assert (r["recipient"], r["city"], r["state"], r["zip"]) == (
            f"{p.first_name} {p.last_name}", p.city, p.state, p.zip)
        first = batch.pages[int(r["first_page"]) - 1].extract_text()
        assert r["account_number"] in first and fmt(due[r["account_number"]]) in first
        assert notices[p.id].status == "printed"
    # Nothing for accounts with nothing due; and the same cycle again sends nothing new.
    assert all(by_account[a].id not in notices for a in set(due) - owing)
    again = run_statements(settings, engine, TODAY, tmp_path / "again", now=NOW,
                           email=None, progress=QUIET)
    assert again.letters == 0 and again.emailed == 0
    assert again.already_done == len(email_patients) + len(no_digital)
