"""billbot remind [--dry-run] [--now ISO] [--limit N]: one overdue-balance reminder run;
billbot report reminders: what the reminders did (sent, delivered, failed, payments after)."""
from __future__ import annotations

import sys
from datetime import UTC, date, datetime

from billing.db.engine import make_engine
from bot.commands import report_subcommands
from bot.reminders.policy import ReminderConfigError
from bot.reminders.report import build_report, format_report
from bot.reminders.run import RunReport, run_reminders
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `remind` subcommand (send due balance
    reminders) and `report reminders` (their results)."""
    p = sub.add_parser("remind", help="send the overdue-balance reminders that are due")
    p.add_argument("--dry-run", action="store_true",
                   help="decide and print what would be sent and why others are skipped")
    p.add_argument("--now", help="the run's clock, ISO 8601 (e.g. 2026-03-09T14:00:00Z)")
    p.add_argument("--limit", type=int, help="send at most this many reminders")
    p.set_defaults(func=_remind)
    rsub = report_subcommands(sub)
    rr = rsub.add_parser("reminders", help="reminders sent, delivered, failed; payments after")
    rr.add_argument("--since", help="only reminders from this date (YYYY-MM-DD)")
    rr.add_argument("--window-days", type=int, default=14,
                    help="count payments posted this many days after a reminder (default 14)")
    rr.set_defaults(func=_report)


def parse_now(text: str | None) -> datetime:
    """ISO 8601; a time without a zone is read as UTC."""
    if not text:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _fail(message: str) -> int:
    print(f"billbot: {message}", file=sys.stderr)
    return 2


def _remind(args) -> int:
    try:
        now = parse_now(args.now)
    except ValueError:
        return _fail(f"--now {args.now!r}: not an ISO 8601 time (e.g. 2026-03-09T14:00:00Z)")
    if args.limit is not None and args.limit < 0:
        return _fail("--limit must be 0 or more")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        report = run_reminders(settings, engine, now, dry_run=args.dry_run, limit=args.limit)
    except ReminderConfigError as exc:
        return _fail(f"reminder settings: {exc}")
    finally:
        engine.dispose()
    print(format_run(report))
    return 0


COLUMNS = ("account", "days", "step", "channel", "local time", "decision")


def format_run(report: RunReport) -> str:
    """A table of every account past due: what the run does about it and why. Account
    numbers only: no names, no amounts, no phone numbers."""
    rows = []
    for d in report.decisions:
        local = d.local_time.strftime("%Y-%m-%d %H:%M %Z") if d.local_time else "-"
        what = {"send": "send" if not report.dry_run else "would send",
                "defer": f"defer ({d.reason})"}.get(d.action, f"skip: {d.reason}")
        rows.append([d.account_number, "-" if d.days_past_due is None else str(d.days_past_due),
                     "-" if d.step is None else f"day {d.step}", d.channel or "-", local,
                     what + ("; flagged for review" if d.flag_review else "")])
    out = [(f"Reminder run at {report.now.isoformat(timespec='minutes')}"
           f"{' (dry run: nothing written or sent)' if report.dry_run else ''}")]
    if rows:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(COLUMNS)]
        out.append("  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=False)).rstrip())
        out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows]
    else:
        out.append("No account has a balance past due.")
    a = report.actions
    out.append(f"{report.candidates} past due: {a['send']} to send, {a['defer']} deferred, "
               f"{a['skip']} skipped; {report.flagged} flagged for review")
    if not report.dry_run:
        out.append(f"sent {report.sent}, failed {report.failed}, to retry {report.retrying}, "
                   f"outcome unknown {report.unknown}, cancelled {report.cancelled}"
                   + (f", {report.no_channel_sender} waiting for a channel that is not "
                      "configured" if report.no_channel_sender else ""))
    return "\n".join(out)


def _report(args) -> int:
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            return _fail(f"--since {args.since!r}: write a date as YYYY-MM-DD")
    if args.window_days < 0:
        return _fail("--window-days must be 0 or more")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        report = build_report(engine, clinic_timezone=settings.clinic_timezone,
                              window_days=args.window_days, since=since)
    finally:
        engine.dispose()
    print(format_report(report))
    return 0
