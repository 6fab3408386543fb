"""billbot demo-data: load a generated demo clinic (reproducible from --seed) into DATABASE_URL."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from billing.core.chargemaster import load_chargemaster
from billing.core.clock import Clock
from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from bot.demo_clinic import generate, load, summary
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `demo-data` subcommand, which loads a
    generated demo clinic (same seed, same data)."""
    p = sub.add_parser("demo-data", help="load a generated demo clinic (idempotent per seed)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--patients", type=int, default=300)
    p.add_argument("--today", type=date.fromisoformat,
                   help="date the clinic is generated as of (default: today in the clinic's zone)")
    p.set_defaults(func=_demo_data)


def _demo_data(args) -> int:
    settings = load_settings()
    clock = Clock()
    today = args.today or clock.today(settings.clinic_timezone)
    clinic = generate(args.seed, args.patients, today, load_chargemaster(settings.chargemaster_path))
    url = load_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            loaded = load(session, clinic, clock.now())
    finally:
        engine.dispose()
    for line in summary(clinic, loaded):
        print(line)
    return 0
