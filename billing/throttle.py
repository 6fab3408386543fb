"""Counting attempts under a key in the database, so every gateway worker and Rasa instance
sees the same count: `max_count` attempts within `window` lock the key for `lock`.

Each step is one conditional UPDATE, so two workers counting the same key at once never lose
an attempt and never both start a fresh window. The caller owns the transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing.db.models import Throttle


@dataclass(frozen=True)
class Limit:
    max_count: int
    window: timedelta
    lock: timedelta

    @classmethod
    def minutes(cls, max_count: int, window: float, lock: float) -> Limit:
        return cls(max(1, max_count), timedelta(minutes=window), timedelta(minutes=lock))


@dataclass(frozen=True)
class Hit:
    count: int  # attempts in the current window, this one included
    locked_until: datetime | None  # set when this attempt reached the limit

    @property
    def just_locked(self) -> bool:
        return self.locked_until is not None


@dataclass(frozen=True)
class ActiveLock:
    key: str
    count: int
    locked_at: datetime | None
    locked_until: datetime


class Throttled(Exception):
    """The key is locked: no attempt is counted, and none may be made, before `until`."""

    def __init__(self, key: str, until: datetime):
        super().__init__(f"{key.partition(':')[0]} locked until {until.isoformat()}")
        self.key = key
        self.until = until


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC)


def _when(value: datetime):
    return literal(value, type_=Throttle.__table__.c.locked_until.type)


def _ensure_row(session: Session, key: str, at: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    session.execute(insert(Throttle).values(key=key, count=0, window_started_at=at)
                    .on_conflict_do_nothing(index_elements=["key"]))


def locked_until(session: Session, key: str, now: datetime) -> datetime | None:
    """The end of the key's lock, or None when attempts may be made."""
    until = session.scalar(select(Throttle.locked_until).where(Throttle.key == key))
    return until if until is not None and until > _utc(now) else None


def check(session: Session, key: str, now: datetime) -> None:
    """Raise Throttled when the key is locked."""
    until = locked_until(session, key, now)
    if until is not None:
        raise Throttled(key, until)


def hit(session: Session, key: str, limit: Limit, now: datetime) -> Hit:
    """Count one attempt; the one that reaches max_count locks the key. Raises Throttled
    (and counts nothing) while the key is locked."""
    at = _utc(now)
    for _ in range(3):  # a clear() racing between the steps below removes the row: again
        counted = _count(session, key, limit, at)
        if counted is not None:
            return counted
        check(session, key, now)
    raise Throttled(key, at + limit.lock)


def _count(session: Session, key: str, limit: Limit, at: datetime) -> Hit | None:
    _ensure_row(session, key, at)
    # A lock that has run out, or a window that has: start a fresh window (at most once).
    session.execute(
        update(Throttle)
        .where(Throttle.key == key, or_(
            and_(Throttle.locked_until.is_not(None), Throttle.locked_until <= at),
            and_(Throttle.locked_until.is_(None), Throttle.window_started_at <= at - limit.window),
        ))
        .values(count=0, window_started_at=at, locked_at=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    reaches = Throttle.count + 1 >= limit.max_count
    row = session.execute(
        update(Throttle)
        .where(Throttle.key == key, Throttle.locked_until.is_(None))
        .values(count=Throttle.count + 1,
                locked_at=case((reaches, _when(at)), else_=None),
                locked_until=case((reaches, _when(at + limit.lock)), else_=None))
        .returning(Throttle.count, Throttle.locked_until)
        .execution_options(synchronize_session=False)
    ).first()
    return None if row is None else Hit(row.count, row.locked_until)


def clear(session: Session, key: str) -> bool:
    """Forget the key's attempts and lift its lock; True when it was locked."""
    was = session.scalar(select(Throttle.locked_until).where(Throttle.key == key))
    session.execute(delete(Throttle).where(Throttle.key == key)
                    .execution_options(synchronize_session=False))
    return was is not None


def active_locks(session: Session, prefix: str, now: datetime) -> list[ActiveLock]:
    """Keys starting with prefix that are locked now, the newest lock first."""
    rows = session.execute(
        select(Throttle.key, Throttle.count, Throttle.locked_at, Throttle.locked_until)
        .where(Throttle.key.startswith(prefix, autoescape=True),
               Throttle.locked_until > _utc(now))
        .order_by(Throttle.locked_until.desc())
    )
    return [ActiveLock(*row) for row in rows]


def purge_expired(session: Session, older_than: datetime) -> int:
    """Delete keys whose window and lock both ended before older_than (retention)."""
    cutoff = _utc(older_than)
    return session.execute(
        delete(Throttle).where(Throttle.window_started_at < cutoff,
                               or_(Throttle.locked_until.is_(None),
                                   Throttle.locked_until < cutoff))
        .execution_options(synchronize_session=False)
    ).rowcount
