"""billbot serve [--profile embedded|production]: run the whole assistant as one process tree.
billbot demo: the same on a SQLite file under var/ holding the demo clinic, trained if needed."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from billing.db.models import Patient
from bot import rasa_env
from bot.supervisor import PROFILES, load_profile, serve
from clinic.settings import ROOT, Settings, load_settings

DEMO_DB = ROOT / "var" / "demo.db"
DEMO_CONSOLE_USER = "demo"
DEMO_CONSOLE_FILE = ROOT / "var" / "demo-console-login.txt"
DEMO_SEED = 42
DEMO_PATIENTS = 300


def register(sub) -> None:
    """Add the `serve` subcommand (the whole process
    tree) and `demo` (the same on a demo clinic)."""
    p = sub.add_parser("serve", help="run Rasa, the action server, the gateway and the "
                                     "scheduled jobs as one process tree")
    p.add_argument("--profile", choices=PROFILES, default="embedded",
                   help="embedded (SQLite, one Rasa) or production (PostgreSQL, Redis, "
                        "several Rasa instances and gateway workers); see docs/production.md")
    p.set_defaults(func=_serve)
    d = sub.add_parser("demo", help="load the demo clinic into var/demo.db, train if needed "
                                    "and serve it (Ctrl-C stops everything)")
    d.set_defaults(func=_demo)


def _fail(message: str) -> int:
    print(f"billbot: {message}", file=sys.stderr)
    return 1


def _model(lang: str = rasa_env.DEFAULT_LANGUAGE) -> Path | None:
    model = rasa_env.current_model(lang=lang)
    return model if model is not None and model.name.startswith("billbot-") and \
        "-nlu-" not in model.name else None


def _serve(args) -> int:
    try:
        profile = load_profile(args.profile)
    except ValueError as exc:
        return _fail(str(exc))
    model = _model()
    if model is None:
        return _fail("no trained dialogue model at models/current: run `billbot train`")
    # The Spanish model when one is trained (billbot train); without it, Spanish conversations
    # are read by the English model and still answered in Spanish.
    return serve(load_settings(), profile, model, model_es=_model("es"))


def ensure_demo_database(settings: Settings, out=print) -> None:
    """Migrate the demo database and load the demo clinic when it has no patients."""
    from billing.core.chargemaster import load_chargemaster
    from billing.core.clock import Clock
    from bot.demo_clinic import generate, load, summary

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as s:
            patients = s.scalar(select(func.count()).select_from(Patient))
        if patients:
            out(f"demo database: {patients} patients already loaded ({DEMO_DB.relative_to(ROOT)})")
            return
        clock = Clock()
        clinic = generate(DEMO_SEED, DEMO_PATIENTS, clock.today(settings.clinic_timezone),
                          load_chargemaster(settings.chargemaster_path))
        with Session(engine) as s, s.begin():
            loaded = load(s, clinic, clock.now())
        for line in summary(clinic, loaded):
            out(line)
    finally:
        engine.dispose()


def ensure_demo_console_user(settings: Settings) -> str:
    """A supervisor login for the demo console, created once; its password is kept in a
    file under var/ readable by its owner only."""
    from bot.console.auth import create_user
    from bot.console.console_models import ConsoleUser

    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as s, s.begin():
            exists = s.scalar(select(ConsoleUser.id).where(
                ConsoleUser.username == DEMO_CONSOLE_USER))
            if exists is None or not DEMO_CONSOLE_FILE.exists():
                password = secrets.token_urlsafe(12)
                if exists is not None:
                    from argon2 import PasswordHasher

                    s.get(ConsoleUser, exists).password_hash = PasswordHasher().hash(password)
                else:
                    create_user(s, DEMO_CONSOLE_USER, password, "supervisor")
                DEMO_CONSOLE_FILE.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(DEMO_CONSOLE_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(password + "\n")
    finally:
        engine.dispose()
    return DEMO_CONSOLE_FILE.read_text().strip()


def demo_accounts_text(console_password: str, console_url: str) -> list[str]:
    """Lines printed when the demo starts: demo patients
    to try in the web chat and the console login."""
    from bot.demo_clinic import DEMO_ACCOUNTS

    lines = ["", "Demo accounts to try in the web chat (the assistant asks you to verify: "
                 + "account number or name, and date of birth):"]
    for a in DEMO_ACCOUNTS:
        lines.append(f"  {a.account_number}  {a.first_name:<7} born {a.date_of_birth:%m/%d/%Y}  "
                     f"{a.phone}  {a.story}")
    lines.append(f"Console: {console_url}  user {DEMO_CONSOLE_USER}, "
                 f"password {console_password} (also in {DEMO_CONSOLE_FILE.relative_to(ROOT)})")
    return lines


def _demo(args) -> int:
    from bot.commands.nlu import train_model

    os.environ.setdefault("DATABASE_URL", f"sqlite:///{DEMO_DB}")
    settings = load_settings()
    if not settings.database_url.startswith("sqlite"):
        return _fail("billbot demo runs on SQLite; use `billbot serve --profile production`")
    if not settings.session_secret:
        # Statement links are signed; a demo gets its own secret for this run.
        settings = settings.replace(session_secret=secrets.token_urlsafe(32))
        os.environ["SESSION_SECRET"] = settings.session_secret
    ensure_demo_database(settings)
    password = ensure_demo_console_user(settings)
    try:
        model = train_model()
        model_es = train_model(lang="es")
    except RuntimeError as exc:
        return _fail(str(exc))
    profile = load_profile("embedded")
    base = f"http://{settings.gateway_host}:{settings.gateway_port}"
    return serve(settings, profile, model,
                 after_start=lambda: print("\n".join(demo_accounts_text(password,
                                                                        base + "/console"))),
                 model_es=model_es)
