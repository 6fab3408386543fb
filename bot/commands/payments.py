"""billbot autopay [--now ISO]: one autopay run (the plan installments due, charged once);
billbot report payments --from DATE --to DATE: the processor's payments, refunds and fees
against the ledger, flagging a transaction with no ledger line or the reverse."""
from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from billing.core.money import fmt
from billing.db.engine import make_engine
from billing.payments.config import processor_from
from billing.payments.processor import ProcessorError
from billing.payments.reconcile import OK, ReconRow, reconcile
from bot.commands import report_subcommands
from bot.commands.remind import parse_now
from clinic.settings import load_settings


def register(sub) -> None:
    """Add `autopay` and `report payments`."""
    p = sub.add_parser("autopay", help="charge the payment-plan installments that are due")
    p.add_argument("--now", help="the run's clock, ISO 8601 (e.g. 2026-03-09T14:00:00Z)")
    p.set_defaults(func=_autopay)
    r = report_subcommands(sub).add_parser(
        "payments", help="processor payments, refunds and fees against the ledger")
    r.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    r.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    r.set_defaults(func=_report)


def _fail(message: str) -> int:
    print(f"billbot: {message}", file=sys.stderr)
    return 2


def _autopay(args) -> int:
    from bot.autopay_run import PaymentsNotConfigured, run_autopay

    try:
        now = parse_now(args.now)
    except ValueError:
        return _fail(f"--now {args.now!r}: not an ISO 8601 time (e.g. 2026-03-09T14:00:00Z)")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        report = run_autopay(settings, engine, now)
    except PaymentsNotConfigured as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    print(f"Autopay run at {now.isoformat(timespec='minutes')}: charged {report.charged}, "
          f"declined {report.declined}, authentication required {report.action_required}, "
          f"delinquent {report.delinquent}, no answer {report.unknown}, "
          f"re-sent {report.resent}")
    return 0


COLUMNS = ("kind", "reference", "account", "processor", "fee", "ledger", "check")


def format_report(rows: list[ReconRow], start: date, end: date) -> str:
    """A table of every transaction and processor ledger line; account numbers only."""
    out = [f"Processor payments {start.isoformat()} to {end.isoformat()}"]
    table = [[r.kind, r.ref, r.account or "-",
              fmt(r.processor_amount) if r.processor_amount is not None else "-",
              fmt(r.fee) if r.fee is not None else "-",
              fmt(r.ledger_amount) if r.ledger_amount is not None else "-",
              r.flag if r.flag == OK else f"FLAG: {r.flag}"] for r in rows]
    if table:
        widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(COLUMNS)]
        out.append("  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True)).rstrip())
        out += ["  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)).rstrip()
                for t in table]
    else:
        out.append("No processor transaction and no processor ledger line in this period.")
    pays = [r for r in rows if r.kind == "payment" and r.processor_amount is not None]
    refunds = [r for r in rows if r.kind == "refund" and r.processor_amount is not None]
    flagged = sum(r.flag != OK for r in rows)
    out.append(f"payments {fmt(sum(r.processor_amount or 0 for r in pays))} "
               f"({len(pays)}), fees {fmt(sum(r.fee or 0 for r in pays))}, "
               f"refunds {fmt(sum(r.processor_amount or 0 for r in refunds))} ({len(refunds)}); "
               f"{flagged} flagged")
    return "\n".join(out)


def _report(args) -> int:
    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError:
        return _fail("--from and --to are dates: YYYY-MM-DD")
    if end < start:
        return _fail("--to is before --from")
    settings = load_settings()
    processor = processor_from(settings)
    if processor is None:
        return _fail("set STRIPE_SECRET_KEY to reconcile the processor's payments")
    zone = ZoneInfo(settings.clinic_timezone)
    window = (datetime.combine(start, time(), zone),
              datetime.combine(end + timedelta(days=1), time(), zone))
    try:
        transactions = processor.transactions(*window)
    except ProcessorError as exc:
        return _fail(f"the payment processor: {exc}")
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as s:
            rows = reconcile(s, processor.name, transactions, start, end)
    finally:
        engine.dispose()
    print(format_report(rows, start, end))
    return 1 if any(r.flag != OK for r in rows) else 0
