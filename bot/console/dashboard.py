"""The supervisor dashboard: open escalations, median time to a representative's first reply,
the share of conversations the assistant resolved alone, and the practice's aging buckets."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.accounts import line_item
from billing.core.aging import BUCKETS, Aging, age_account, practice_aging
from billing.core.money import fmt
from billing.db.models import LedgerEntry
from billing.escalations.enums import OPEN, EscalationStatus
from billing.escalations.models import Escalation
from bot.messaging_models import INBOUND, Message

WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class DashboardStats:
    queued: int
    assigned: int
    median_first_reply: timedelta | None  # escalations opened in the window
    conversations: int  # senders who wrote in the window
    resolved_by_bot: int  # of those, never escalated in the window
    aging: Aging

    @property
    def bot_share_percent(self) -> int | None:
        if not self.conversations:
            return None
        return round(100 * self.resolved_by_bot / self.conversations)


def median_delay(pairs: list[tuple[datetime, datetime]]) -> timedelta | None:
    """Median of (answered - opened) over the pairs; None without any."""
    if not pairs:
        return None
    return timedelta(seconds=statistics.median((b - a).total_seconds() for a, b in pairs))


def human_duration(delay: timedelta | None) -> str:
    """Format a reply delay for the dashboard, e.g. '45 s', '12 min', '2 h 5 min'."""
    if delay is None:
        return "no replies yet"
    minutes = int(delay.total_seconds() // 60)
    if minutes < 1:
        return f"{int(delay.total_seconds())} s"
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def practice_aging_now(session: Session, today: date) -> Aging:
    """Aging buckets of the whole practice as of today, computed from every ledger entry."""
    by_patient: dict[int, list] = {}
    for entry in session.scalars(select(LedgerEntry).order_by(LedgerEntry.patient_id,
                                                             LedgerEntry.posted_date,
                                                             LedgerEntry.id)):
        by_patient.setdefault(entry.patient_id, []).append(line_item(entry))
    return practice_aging(age_account(items, today) for items in by_patient.values())


def compute(session: Session, now: datetime, today: date) -> DashboardStats:
    """Gather the supervisor dashboard figures: open
    escalations by status, reply times, practice aging."""
    since = now - WINDOW
    counts = dict(
        session.execute(
            select(Escalation.status, func.count())
            .where(Escalation.status.in_(OPEN))
            .group_by(Escalation.status)
        ).all()
    )
    replied = session.execute(
        select(Escalation.created_at, Escalation.first_reply_at).where(
            Escalation.created_at >= since, Escalation.first_reply_at.is_not(None)
        )
    ).all()
    talkers = set(
        session.scalars(
            select(Message.sender_key).distinct().where(
                Message.direction == INBOUND, Message.created_at >= since
            )
        )
    )
    escalated = set(
        session.scalars(
            select(Escalation.sender_key).distinct().where(Escalation.created_at >= since)
        )
    )
    return DashboardStats(
        queued=counts.get(EscalationStatus.QUEUED, 0),
        assigned=counts.get(EscalationStatus.ASSIGNED, 0),
        median_first_reply=median_delay([(a, b) for a, b in replied]),
        conversations=len(talkers),
        resolved_by_bot=len(talkers - escalated),
        aging=practice_aging_now(session, today),
    )


def aging_chart_svg(aging: Aging, width: int = 560, height: int = 240) -> str:
    """A bar chart of the aging buckets as inline SVG (amounts labelled on the bars)."""
    top, bottom, left = 24, 36, 12
    plot_h = height - top - bottom
    slot = (width - 2 * left) / len(BUCKETS)
    biggest = max([aging.buckets.get(b, 0) for b in BUCKETS] + [1])
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
         f'width="{width}" height="{height}" role="img" aria-label="Aging buckets" class="chart">')
    ]
    for i, name in enumerate(BUCKETS):
        amount = aging.buckets.get(name, 0)
        bar_h = round(plot_h * amount / biggest) if amount > 0 else 0
        x = left + i * slot + slot * 0.15
        y = top + plot_h - bar_h
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{slot * 0.7:.1f}" height="{bar_h}" '
            f'class="bar bucket-{i}"><title>{escape(name)}: {fmt(amount)}</title></rect>'
        )
        cx = x + slot * 0.35
        parts.append(f'<text x="{cx:.1f}" y="{y - 6}" text-anchor="middle" class="amount">'
                     f'{fmt(amount)}</text>')
        label = name if name in ("current", "120+") else f"{name} d"
        parts.append(f'<text x="{cx:.1f}" y="{height - 14}" text-anchor="middle" class="label">'
                     f'{escape(label)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" '
                 f'y2="{top + plot_h}" class="axis"/></svg>')
    return "".join(parts)
