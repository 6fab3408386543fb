"""Retention: conversation transcripts (the gateway's messages table) and Rasa's tracker
events (its SQL tracker store's `events` table) older than a number of days are deleted.
Rasa open source keeps tracker events forever otherwise.

Counters of the guessing limits (billing/throttle.py) whose window and lock ended more than
THROTTLE_KEEP ago are deleted too: every web chat session leaves two behind.

Deletes run in batches, each its own transaction, so a large backlog does not hold long locks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, create_engine, delete, func, inspect, select, text, update
from sqlalchemy.orm import Session

from billing import throttle
from billing.db.engine import make_engine
from bot.messaging_models import Message

BATCH = 5000
THROTTLE_KEEP = timedelta(days=7)  # longer than any limit's window (the longest default: 1 day)


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    messages: int  # deleted (or, in a dry run, that would be)
    tracker_events: int | None  # None when there is no SQL tracker store to clean
    dry_run: bool = False
    throttles: int = 0  # expired limit counters deleted (none in a dry run)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        events = ("no SQL tracker store" if self.tracker_events is None
                  else f"{self.tracker_events} Rasa tracker event(s)")
        counters = f"; {self.throttles} expired limit counter(s)" if self.throttles else ""
        return (f"{verb} {self.messages} message(s) and {events} "
                f"older than {self.cutoff.isoformat(timespec='seconds')}{counters}")


def cutoff_for(now: datetime, days: int) -> datetime:
    """The moment before which data is deleted: now minus days; now must be timezone-aware."""
    if days < 1:
        raise ValueError("the retention period must be at least 1 day")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now - timedelta(days=days)


def purge_messages(engine: Engine, cutoff: datetime, dry_run: bool = False,
                   batch: int = BATCH) -> int:
    """Delete messages created before cutoff. A newer message replying to one deleted keeps
    its text and loses only the link (reply_to_id)."""
    old = Message.created_at < cutoff
    if dry_run:
        with Session(engine) as s:
            return s.scalar(select(func.count()).select_from(Message).where(old)) or 0
    total = 0
    while True:
        with Session(engine) as s, s.begin():
            ids = list(s.scalars(select(Message.id).where(old).order_by(Message.id).limit(batch)))
            if not ids:
                return total
            s.execute(update(Message).where(Message.reply_to_id.in_(ids))
                      .values(reply_to_id=None))
            s.execute(delete(Message).where(Message.id.in_(ids)))
            total += len(ids)


def tracker_engine(tracker_store_url: str) -> Engine | None:
    """An engine on Rasa's tracker store, or None when it is not SQL (in-memory)."""
    if not tracker_store_url:
        return None
    if tracker_store_url.startswith(("postgresql://", "postgres://")):
        tracker_store_url = "postgresql+psycopg://" + tracker_store_url.split("://", 1)[1]
    return create_engine(tracker_store_url)


def purge_tracker_events(engine: Engine, cutoff: datetime, dry_run: bool = False,
                         batch: int = BATCH) -> int:
    """Delete Rasa tracker events stamped before cutoff (Rasa's `timestamp` is epoch seconds).
    A store Rasa has not created its table in yet has nothing to delete."""
    if not inspect(engine).has_table("events"):
        return 0
    epoch = cutoff.timestamp()
    if dry_run:
        with engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM events WHERE timestamp < :t"),
                             {"t": epoch}).scalar_one()
    total = 0
    while True:
        with engine.begin() as c:
            deleted = c.execute(
                text("DELETE FROM events WHERE id IN "
                     "(SELECT id FROM events WHERE timestamp < :t ORDER BY id LIMIT :n)"),
                {"t": epoch, "n": batch},
            ).rowcount
        total += deleted
        if deleted < batch:
            return total


def purge(database_url: str, tracker_store_url: str, now: datetime, days: int,
          dry_run: bool = False) -> RetentionResult:
    """One retention run over the accounts database and Rasa's tracker store."""
    cutoff = cutoff_for(now, days)
    engine = make_engine(database_url)
    throttles = 0
    try:
        messages = purge_messages(engine, cutoff, dry_run)
        if not dry_run:
            with Session(engine) as s, s.begin():
                throttles = throttle.purge_expired(s, now - THROTTLE_KEEP)
    finally:
        engine.dispose()
    events = None
    tracker = tracker_engine(tracker_store_url)
    if tracker is not None:
        try:
            events = purge_tracker_events(tracker, cutoff, dry_run)
        finally:
            tracker.dispose()
    return RetentionResult(cutoff, messages, events, dry_run, throttles)
