"""Time `billbot import` on a generated export: N ledger rows (default 100,000) over N/50 accounts.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--url postgresql://...]

Without --url it uses a fresh SQLite file. Prints the import time and rows per second, then
re-imports the same files (all rows unchanged) and prints that time too.
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from billing.importer import COLUMNS, import_sources, sources_from_paths


def generate(folder: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    accounts = max(1, rows // 50)
    with (folder / "patients.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS["patients"])
        for a in range(accounts):
            w.writerow([f"B{a:06d}", "Pat", f"Bench{a}", "1980-01-01",
                        f"+1212555{a % 10000:04d}", "", "", "America/Chicago", "sms", "yes"])
    with (folder / "ledger.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS["ledger"])
        n = 0
        day0 = date(2023, 1, 1)
        while n < rows:
            acct = f"B{rnd.randrange(accounts):06d}"
            claim = f"BC{n:07d}"
            day = day0 + timedelta(days=rnd.randrange(500))
            charge = rnd.randrange(5000, 50000)
            w.writerow([acct, f"BE{n:07d}", day, day, "charge", f"{charge / 100:.2f}", "99213",
                        "Office visit", "Dr. Bench", claim, "adjudicated", "",
                        day + timedelta(days=30)])
            n += 1
            for kind, part in (("insurance_payment", 6), ("insurance_adjustment", 2),
                               ("patient_payment", 1)):
                if n >= rows:
                    break
                w.writerow([acct, f"BE{n:07d}", day + timedelta(days=20), "", kind,
                            f"{charge * part // 10 / 100:.2f}", "", "", "", claim, "",
                            "card" if kind == "patient_payment" else "", ""])
                n += 1


def timed_import(url: str, folder: Path) -> tuple[float, str]:
    engine = make_engine(url)
    t0 = time.perf_counter()
    with Session(engine) as s, s.begin():
        report = import_sources(s, sources_from_paths([folder]))
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return elapsed, report.lines()[2]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--url", help="a migrated, empty database (default: a new SQLite file)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, args.rows)
        url = args.url or f"sqlite:///{folder / 'bench.db'}"
        upgrade(url)
        for label in ("first import", "re-import"):
            elapsed, line = timed_import(url, folder)
            print(f"{label}: {args.rows} ledger rows in {elapsed:.1f} s "
                  f"({args.rows / elapsed:,.0f} rows/s) [{line}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
