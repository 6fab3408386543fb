"""Benchmark: a statement run (billbot statements) over N generated accounts: a PDF for each
account with an amount due, email notices to a local SMTP server (aiosmtpd with STARTTLS,
tests/doubles/smtp.py), the print batch of letters and its manifest. Usage:

    .venv/bin/python bench/statements_bench.py [--accounts 10000] [--demo]

--demo runs over the demo clinic (seed 42, 300 patients) instead. SQLite in a fresh folder
under /tmp. Prints the wall time, the counts and the peak RSS of the run.
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert
from sqlalchemy.orm import Session

from billing.core.chargemaster import load_chargemaster
from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from billing.db.models import LedgerEntry, Patient
from bot.channels.email import EmailChannel
from bot.demo_clinic import generate as demo_clinic
from bot.demo_clinic import load as load_demo
from bot.statements.run import Progress, run_statements
from clinic.settings import Settings
from tests.doubles.smtp import SmtpDouble

CYCLE = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
CITIES = [("Portland", "OR", "972"), ("Austin", "TX", "787"), ("Miami", "FL", "331")]


def generate(url: str, accounts: int, seed: int = 11) -> int:
    """Patients (20% email, 4% no digital channel, the rest SMS) with 1-3 visits."""
    rnd = random.Random(seed)
    engine = make_engine(url)
    lines = 0
    with engine.begin() as conn:
        for start in range(0, accounts, 5000):
            patients, entries = [], []
            for pid in range(start + 1, min(start + 5000, accounts) + 1):
                r = rnd.random()
                channel = "email" if r < 0.2 else ("none" if r < 0.24 else "sms")
                city, state, prefix = rnd.choice(CITIES)
                patients.append({
                    "id": pid, "account_number": f"S{pid:07d}", "first_name": "Bench",
                    "last_name": f"Patient{pid}", "date_of_birth": date(1970, 1, 1),
                    "phone": f"+1555{pid:07d}", "email": f"p{pid}@example.org",
                    "timezone": "America/Chicago", "preferred_channel": channel,
                    "sms_consent": channel == "sms", "email_consent": channel == "email",
                    "language": "en", "state": state, "address_line1": f"{pid} Oak St",
                    "city": city, "zip": f"{prefix}{pid % 100:02d}", "needs_review": False,
                    "created_at": NOW})
                for v in range(rnd.choice((1, 1, 2, 3))):
                    served = CYCLE - timedelta(days=rnd.randint(20, 200))
                    charge = rnd.randint(80, 2400) * 100
                    paid_ins = charge * rnd.choice((0, 50, 70, 80)) // 100
                    claim = f"CS{pid}-{v}"
                    entries.append({"entry_id": f"{claim}-C", "patient_id": pid, "type": "charge",
                                        "amount_cents": charge, "posted_date": served,
                                        "service_date": served, "cpt_code": "99213",
                                        "description": "Office visit", "provider": "Dr. Bench",
                                        "claim_id": claim, "claim_status": "adjudicated",
                                        "due_date": served + timedelta(days=30)})
                    if paid_ins:
                        entries.append({"entry_id": f"{claim}-I", "patient_id": pid,
                                            "type": "insurance_payment", "amount_cents": paid_ins,
                                            "posted_date": served + timedelta(days=14),
                                            "claim_id": claim})
                    if rnd.random() < 0.3:  # paid in full: nothing due on that visit
                        entries.append({"entry_id": f"{claim}-P", "patient_id": pid,
                                            "type": "patient_payment",
                                            "amount_cents": charge - paid_ins,
                                            "posted_date": served + timedelta(days=20),
                                            "claim_id": claim, "method": "card"})
            conn.execute(insert(Patient), patients)
            keys = ("service_date", "cpt_code", "description", "provider", "claim_status",
                    "due_date", "method")
            for e in entries:
                e.update({k: e.get(k) for k in keys}, reminders_paused=False, created_at=NOW)
            conn.execute(insert(LedgerEntry), entries)
            lines += len(entries)
    engine.dispose()
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--demo", action="store_true")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="billbot-statements-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    base = Settings(database_url=url, session_secret="bench-secret")
    if args.demo:
        engine = make_engine(url)
        with Session(engine) as s, s.begin():
            load_demo(s, demo_clinic(42, 300, CYCLE, load_chargemaster(base.chargemaster_path)),
                      NOW)
        engine.dispose()
        what = "demo clinic (300 patients)"
    else:
        lines = generate(url, args.accounts)
        what = f"{args.accounts} accounts, {lines} ledger lines"
    with SmtpDouble(folder) as smtp:
        settings = base.replace(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                smtp_ca_file=smtp.ca_file, email_from="Bench <b@bench.test>")
        engine = make_engine(url)
        started = time.perf_counter()
        report = run_statements(settings, engine, CYCLE, folder / "out", now=NOW,
                                email=EmailChannel(settings),
                                progress=lambda n: Progress(n, enabled=False))
        seconds = time.perf_counter() - started
        received = len(smtp.received)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{what}: {seconds:.1f} s, {report.statements} statements "
          f"({report.statements / seconds:.0f}/s), {report.emailed} emails ({received} "
          f"received), {report.letters} letters ({report.letter_pages} pages), "
          f"peak RSS {rss:.0f} MiB")
    for line in report.lines():
        print(line)


if __name__ == "__main__":
    main()
