"""`billbot report reminders`: reminders sent, delivered and failed per cadence step, and the
payments that followed within 14 days. Delivery status comes from the gateway's messages
table (Twilio's status callbacks), joined on the Twilio SID the outbox row keeps."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

from billing.core.ledger import EntryType
from billing.core.money import Cents, fmt
from billing.db.models import LedgerEntry
from bot.messaging_models import OUTBOUND, Message
from bot.reminders.reminders_models import ReminderOutbox

DELIVERED = ("delivered", "read")
UNDELIVERED = ("undelivered", "failed")


@dataclass
class StepLine:
    step: int
    sent: int = 0  # accepted by the channel
    delivered: int = 0  # ... and confirmed delivered by a status callback
    undelivered: int = 0  # ... and reported undelivered or failed by a status callback
    failed: int = 0  # refused by the channel when sent
    unknown: int = 0  # a run stopped while sending: check Twilio's log
    waiting: int = 0  # pending: deferred or to be retried
    cancelled: int = 0
    paid_within: int = 0  # sent reminders followed by a patient payment within the window
    payments: int = 0  # those payments (each counted once, under its latest reminder)
    paid_cents: Cents = 0


@dataclass
class ReminderReport:
    window_days: int
    since: date | None
    steps: dict[int, StepLine] = field(default_factory=dict)

    def total(self) -> StepLine:
        t = StepLine(step=0)
        for line in self.steps.values():
            for name in vars(t):
                if name != "step":
                    setattr(t, name, getattr(t, name) + getattr(line, name))
        return t


def _local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def build_report(engine: Engine, *, clinic_timezone: str = "America/New_York",
                 window_days: int = 14, since: date | None = None) -> ReminderReport:
    """Count reminders per step (sent, delivered,
    failed...) and payments within window_days after."""
    tz = ZoneInfo(clinic_timezone)
    report = ReminderReport(window_days=window_days, since=since)
    ro = ReminderOutbox
    with Session(engine) as s:
        q = (select(ro.id, ro.patient_id, ro.step, ro.status, ro.sent_at, ro.created_at,
                    Message.status)
             .outerjoin(Message, and_(Message.external_id == ro.provider_sid,
                                      Message.channel == ro.channel,
                                      Message.direction == OUTBOUND)))
        sent: dict[int, list[tuple[date, int, int]]] = defaultdict(list)  # patient -> reminders
        for rid, pid, step, status, sent_at, created_at, msg_status in s.execute(q):
            if since is not None and _local_date(sent_at or created_at, tz) < since:
                continue
            line = report.steps.setdefault(step, StepLine(step=step))
            if status == "sent":
                line.sent += 1
                if msg_status in DELIVERED:
                    line.delivered += 1
                elif msg_status in UNDELIVERED:
                    line.undelivered += 1
                sent[pid].append((_local_date(sent_at, tz), step, rid))
            elif status == "failed":
                line.failed += 1
            elif status in ("unknown", "sending"):
                line.unknown += 1
            elif status == "pending":
                line.waiting += 1
            elif status == "cancelled":
                line.cancelled += 1
        if sent:
            _payments(s, report, sent, window_days)
    report.steps = dict(sorted(report.steps.items()))
    return report


def _payments(s: Session, report: ReminderReport, sent: dict, window_days: int) -> None:
    """Each payment is credited to the latest reminder sent on or before its date, when that
    reminder is at most window_days older than the payment."""
    first = min(d for reminders in sent.values() for d, _, _ in reminders)
    window = timedelta(days=window_days)
    followed: set[int] = set()
    ids = list(sent)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        rows = s.execute(
            select(LedgerEntry.patient_id, LedgerEntry.posted_date, LedgerEntry.amount_cents)
            .where(LedgerEntry.patient_id.in_(chunk),
                   LedgerEntry.type == EntryType.PATIENT_PAYMENT.value,
                   LedgerEntry.posted_date >= first)
        )
        for pid, posted, cents in rows:
            before = [r for r in sent[pid] if r[0] <= posted <= r[0] + window]
            if not before:
                continue
            _day, step, rid = max(before)
            line = report.steps[step]
            line.payments += 1
            line.paid_cents += cents
            if rid not in followed:
                followed.add(rid)
                line.paid_within += 1


COLUMNS = ("step", "sent", "delivered", "undelivered", "failed", "unknown", "waiting",
           "cancelled", "paid within", "payments", "amount paid")


def format_report(report: ReminderReport) -> str:
    """Render the reminder report as an aligned text table, one row per step plus a total row."""
    def cells(line: StepLine, label: str) -> list[str]:
        return [label, str(line.sent), str(line.delivered), str(line.undelivered),
                str(line.failed), str(line.unknown), str(line.waiting), str(line.cancelled),
                str(line.paid_within), str(line.payments), fmt(line.paid_cents)]

    rows = [cells(line, f"day {step}") for step, line in report.steps.items()]
    rows.append(cells(report.total(), "all"))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(COLUMNS)]
    out = [
        (f"Reminders{' since ' + report.since.isoformat() if report.since else ''}; payments "
        f"counted when posted within {report.window_days} days of a reminder"),
        "  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(COLUMNS, widths, strict=False))),
    ]
    for r in rows:
        out.append("  ".join(c.rjust(w) if i else c.ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths, strict=False))))
    t = report.total()
    if t.unknown:
        out.append(f"{t.unknown} reminder(s) may or may not have gone out (a run stopped while "
                   "sending): check Twilio's message log before sending them by hand.")
    return "\n".join(out)
