"""The clinic the load benchmark talks about: the demo clinic's generator (bot/demo_clinic.py)
at a larger size, loaded through the importer into a fresh SQLite file, so the actions run
their real queries over thousands of accounts (visits, ledger lines, insurance, refunds,
plans, deliberate billing errors).

    build(database_url, patients, seed) -> the patients a simulated patient can be
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.openloop import Patient
from billing.core.chargemaster import load_chargemaster
from billing.core.clock import Clock
from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from billing.db.models import LedgerEntry
from billing.db.models import Patient as PatientRow
from bot.demo_clinic import generate, load
from clinic.settings import Settings

DEFAULT_PATIENTS = 2400  # about the most the demo generator's phone numbers allow


def build(settings: Settings, patients: int = DEFAULT_PATIENTS, seed: int = 17
          ) -> tuple[list[Patient], dict[str, int]]:
    """Create the database and load the clinic. Returns the patients each alone on their
    phone and not opted out (a shared family phone needs the first name as well), and
    counts of what was loaded."""
    upgrade(settings.database_url)
    clock = Clock()
    clinic = generate(seed, patients, clock.today(settings.clinic_timezone),
                      load_chargemaster(settings.chargemaster_path))
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as s, s.begin():
            loaded = load(s, clinic, clock.now())
        with Session(engine) as s:
            rows = s.execute(select(PatientRow.account_number, PatientRow.first_name,
                                    PatientRow.date_of_birth, PatientRow.phone,
                                    PatientRow.sms_opted_out_at)).all()
            ledger = s.scalar(select(func.count()).select_from(LedgerEntry))
    finally:
        engine.dispose()
    per_phone = Counter(r.phone for r in rows if r.phone)
    usable = [Patient(r.account_number, r.first_name, f"{r.date_of_birth:%m/%d/%Y}", r.phone)
              for r in rows
              if r.phone and per_phone[r.phone] == 1 and r.sms_opted_out_at is None]
    usable.sort(key=lambda p: p.account_number)
    counts = {"patients": len(rows), "ledger_lines": ledger or 0,
              "plans": loaded.plans_created, "usable": len(usable)}
    return usable, counts
