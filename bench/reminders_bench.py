"""Benchmark: a reminder run (selection in SQL + the policy, dry run) over N generated
accounts, with its wall time and peak memory. Usage:

    .venv/bin/python bench/reminders_bench.py [--accounts 100000] [--postgres] [--tracemalloc]

SQLite: a fresh file under /tmp. --postgres: a throwaway database on 127.0.0.1:5432 (created
and dropped; BILLBOT_BENCH_PG_ADMIN overrides the admin URL). The run is measured in a child
process, so its peak RSS is the run's own and not the data generator's.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text

from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from billing.db.models import Dispute, LedgerEntry, Patient, PaymentPlan

NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)
ZONES = [("America/New_York", "NY"), ("America/New_York", "FL"), ("America/Chicago", "TX"),
         ("America/Denver", "CO"), ("America/Phoenix", "AZ"), ("America/Los_Angeles", "CA"),
         ("America/Anchorage", "AK"), ("Pacific/Honolulu", "HI")]
PG_ADMIN = os.environ.get("BILLBOT_BENCH_PG_ADMIN",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def generate(url: str, accounts: int, seed: int = 7) -> int:
    """Insert `accounts` patients with 1-3 visits each; returns the ledger line count."""
    rnd = random.Random(seed)
    engine = make_engine(url)
    today = NOW.date()
    lines = 0
    batch = 5000
    with engine.begin() as conn:
        for start in range(0, accounts, batch):
            patients, entries, disputes, plans = [], [], [], []
            for i in range(start, min(start + batch, accounts)):
                pid = i + 1
                tz, state = rnd.choice(ZONES)
                telegram = rnd.random() < 0.15
                patients.append({
                    "id": pid, "account_number": f"B{pid:07d}", "first_name": "Bench",
                    "last_name": f"Patient{pid}", "date_of_birth": date(1970, 1, 1),
                    "phone": f"+1555{pid:07d}", "email": None,
                    "telegram_chat_id": 900000000 + pid if telegram else None, "timezone": tz,
                    "preferred_channel": "telegram" if telegram else "sms",
                    "sms_consent": rnd.random() < 0.9, "sms_consent_at": None,
                    "sms_opted_out_at": NOW if rnd.random() < 0.05 else None, "language": "en",
                    "state": state, "needs_review": False, "created_at": NOW})
                for v in range(rnd.randint(1, 3)):
                    claim = f"CLM{pid}-{v}"
                    served = today - timedelta(days=rnd.randint(5, 300))
                    amount = rnd.randint(50, 500) * 100
                    status = rnd.choices(["adjudicated", "pending", "self_pay"], [8, 1, 1])[0]
                    base = {"patient_id": pid, "claim_id": claim, "service_date": None,
                                "description": None, "provider": None, "cpt_code": None, "method": None,
                                "claim_status": None, "due_date": None, "reminders_paused": False,
                                "created_at": NOW}
                    entries.append({**base, "entry_id": f"{claim}-C", "type": "charge",
                                    "amount_cents": amount, "posted_date": served,
                                    "service_date": served, "claim_status": status,
                                    "description": "Office visit", "cpt_code": "99213",
                                    "due_date": served + timedelta(days=30),
                                    "reminders_paused": rnd.random() < 0.01})
                    share = amount
                    if status == "adjudicated":
                        paid = amount * 6 // 10
                        adj = amount * 2 // 10
                        share = amount - paid - adj
                        entries.append({**base, "entry_id": f"{claim}-IP",
                                        "type": "insurance_payment", "amount_cents": paid,
                                        "posted_date": served + timedelta(days=14)})
                        entries.append({**base, "entry_id": f"{claim}-IA",
                                        "type": "insurance_adjustment", "amount_cents": adj,
                                        "posted_date": served + timedelta(days=14)})
                    if status != "pending" and rnd.random() < 0.4:
                        entries.append({**base, "entry_id": f"{claim}-PP",
                                        "type": "patient_payment", "amount_cents": share,
                                        "posted_date": served + timedelta(days=20),
                                        "method": "card"})
                r = rnd.random()
                if r < 0.02:
                    disputes.append({"reference": f"D{pid}", "patient_id": pid, "status": "open",
                                         "summary": "bench", "amount_cents": 0, "opened_at": NOW})
                elif r < 0.05:
                    plans.append({"patient_id": pid, "total_cents": 10000, "monthly_cents": 2500,
                                      "months": 4, "start_date": today, "status": "active",
                                      "created_by": "bench", "created_at": NOW})
            conn.execute(insert(Patient), patients)
            conn.execute(insert(LedgerEntry), entries)
            if disputes:
                conn.execute(insert(Dispute), disputes)
            if plans:
                conn.execute(insert(PaymentPlan), plans)
            lines += len(entries)
    engine.dispose()
    return lines


def measure(url: str, use_tracemalloc: bool) -> None:
    """The measured part (run in a child process): one dry reminder run."""
    from bot.reminders.run import run_reminders
    from clinic.settings import Settings

    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    engine = make_engine(url)
    started = time.perf_counter()
    report = run_reminders(Settings(database_url=url), engine, NOW, dry_run=True)
    elapsed = time.perf_counter() - started
    engine.dispose()
    a = report.actions
    print(f"run: {elapsed:.2f} s for {report.candidates} accounts past due "
          f"({a['send']} to send, {a['defer']} deferred, {a['skip']} skipped, "
          f"{report.flagged} to flag)")
    if use_tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        print(f"python heap peak (tracemalloc): {peak / 2**20:.1f} MiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also report the Python heap peak (slows the run)")
    ap.add_argument("--analyze", action="store_true",
                    help="PostgreSQL: ANALYZE after loading (default: plan without statistics)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # child process: URL to run on
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.tracemalloc)
        return 0
    admin = None
    if args.postgres:
        name = f"billbot_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='billbot-bench-')}/bench.db"
    try:
        upgrade(url)
        t = time.perf_counter()
        lines = generate(url, args.accounts)
        print(f"generated {args.accounts} accounts, {lines} ledger lines in "
              f"{time.perf_counter() - t:.1f} s ({'PostgreSQL' if admin else 'SQLite'})")
        if admin is not None and args.analyze:
            with make_engine(url).begin() as c:
                c.execute(text("ANALYZE"))
        cmd = [sys.executable, __file__, "--measure", url]
        if args.tracemalloc:
            cmd.append("--tracemalloc")
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        print(f"child process: {wall:.2f} s wall (with interpreter start), "
              f"peak RSS {peak_kib / 1024:.0f} MiB")
    finally:
        if admin is not None:
            from billing.db.engine import engine_for

            engine_for.cache_clear()
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
