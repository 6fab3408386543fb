"""billbot statement ACCOUNT [--out FILE]: one account's statement as a PDF;
billbot statements --cycle DATE --out DIR: the statement run over every account with an
amount due (PDFs, email notices, the print batch of letters and its manifest)."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import find_by_account_number
from billing.core.clock import Clock
from billing.db.engine import make_engine
from bot.channels.registry import build_channels
from bot.statements.content import statement_content
from bot.statements.pdf import statement_pdf
from bot.statements.run import Progress, run_statements
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `statement` and `statements` subcommands to the billbot CLI."""
    p = sub.add_parser("statement", help="one account's statement as a PDF")
    p.add_argument("account")
    p.add_argument("--out", type=Path, help="the PDF file (default: statement-ACCOUNT.pdf)")
    p.add_argument("--date", type=date.fromisoformat,
                   help="statement date, YYYY-MM-DD (default: today in the clinic's zone)")
    p.set_defaults(func=_statement)
    p = sub.add_parser("statements", help="the statement run: every account with an amount due")
    p.add_argument("--cycle", type=date.fromisoformat, required=True,
                   help="the statement date, YYYY-MM-DD")
    p.add_argument("--out", type=Path, required=True, help="directory for the PDFs and batch")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_statements)


def _statement(args) -> int:
    settings = load_settings()
    on = args.date or Clock().today(settings.clinic_timezone)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session, session.begin():
            patient = find_by_account_number(session, args.account)
            if patient is None:
                print(f"no account {args.account!r}", file=sys.stderr)
                return 1
            content = statement_content(session, patient.id, settings, on)
            out = args.out or Path(f"statement-{content.account_number}.pdf")
            out.write_bytes(statement_pdf(content))
            audit.record(session, "cli", "statement_pdf", patient.id)
    finally:
        engine.dispose()
    print(f"{out}: statement of {content.account_number} dated {on.isoformat()}")
    return 0


def _statements(args) -> int:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    channels = build_channels(settings)
    try:
        report = run_statements(
            settings, engine, args.cycle, args.out, now=Clock().now(),
            email=channels.get("email"),
            progress=lambda n: Progress(n, enabled=False if args.no_progress else None))
    finally:
        import asyncio

        asyncio.run(channels.aclose())
        engine.dispose()
    for line in report.lines():
        print(line)
    if "email" not in channels and report.email_waiting:
        print("  (no email channel configured: set SMTP_HOST and EMAIL_FROM; the email "
              "notices wait for the next run)")
    return 0
