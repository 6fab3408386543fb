"""Attempts counted per key in the database: the limit locks, the window and the lock run
out, clearing lifts, and concurrent workers never lose a count (SQLite and PostgreSQL)."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from billing import throttle
from billing.throttle import Limit, Throttled

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
LIMIT = Limit.minutes(3, window=60, lock=30)


def test_the_attempt_that_reaches_the_limit_locks_the_key(session):
    assert throttle.hit(session, "k:a", LIMIT, NOW).count == 1
    assert not throttle.hit(session, "k:a", LIMIT, NOW).just_locked
    third = throttle.hit(session, "k:a", LIMIT, NOW)
    assert third.count == 3 and third.locked_until == NOW + timedelta(minutes=30)
    assert throttle.locked_until(session, "k:a", NOW) == NOW + timedelta(minutes=30)
    with pytest.raises(Throttled) as locked:
        throttle.hit(session, "k:a", LIMIT, NOW + timedelta(minutes=29))
    assert locked.value.until == NOW + timedelta(minutes=30)
    assert throttle.locked_until(session, "k:b", NOW) is None


def test_after_the_lock_a_fresh_window_starts(session):
    for _ in range(3):
        throttle.hit(session, "k:a", LIMIT, NOW)
    later = NOW + timedelta(minutes=31)
    assert throttle.locked_until(session, "k:a", later) is None
    assert throttle.hit(session, "k:a", LIMIT, later).count == 1


def test_attempts_older_than_the_window_are_forgotten(session):
    throttle.hit(session, "k:a", LIMIT, NOW)
    throttle.hit(session, "k:a", LIMIT, NOW + timedelta(minutes=59))
    assert throttle.hit(session, "k:a", LIMIT, NOW + timedelta(minutes=61)).count == 1


def test_clear_lifts_a_lock_and_forgets_the_count(session):
    for _ in range(3):
        throttle.hit(session, "k:a", LIMIT, NOW)
    assert throttle.clear(session, "k:a") is True
    assert throttle.locked_until(session, "k:a", NOW) is None
    assert throttle.hit(session, "k:a", LIMIT, NOW).count == 1
    assert throttle.clear(session, "k:a") is False


def test_active_locks_lists_locked_keys_of_one_kind(session):
    for key in ("verify_account:A1", "verify_account:A2", "login_user:x"):
        for _ in range(3):
            throttle.hit(session, key, LIMIT, NOW)
    throttle.hit(session, "verify_account:A3", LIMIT, NOW)
    keys = {lock.key for lock in throttle.active_locks(session, "verify_account:", NOW)}
    assert keys == {"verify_account:A1", "verify_account:A2"}
    assert throttle.active_locks(session, "verify_account:", NOW + timedelta(hours=1)) == []


def test_purge_removes_only_keys_whose_window_and_lock_ended(session):
    for _ in range(3):
        throttle.hit(session, "k:locked", Limit.minutes(3, 60, 600), NOW)
    throttle.hit(session, "k:old", LIMIT, NOW)
    throttle.hit(session, "k:new", LIMIT, NOW + timedelta(hours=2))
    assert throttle.purge_expired(session, NOW + timedelta(hours=1)) == 1
    assert throttle.hit(session, "k:new", LIMIT, NOW + timedelta(hours=2)).count == 2
    assert throttle.locked_until(session, "k:locked", NOW + timedelta(hours=1)) is not None


def test_concurrent_workers_lose_no_attempt_and_lock_once(engine):
    limit = Limit.minutes(25, window=60, lock=30)
    results: list[throttle.Hit | str] = []
    errors: list[BaseException] = []

    def worker():
        for _ in range(5):
            for attempt in range(20):
                try:
                    with Session(engine) as s, s.begin():
                        results.append(throttle.hit(s, "k:shared", limit, NOW))
                    break
                except Throttled:
                    results.append("locked")
                    break
                except OperationalError as exc:  # SQLite's "database is locked": retry
                    if "locked" not in str(exc) or attempt == 19:
                        errors.append(exc)
                        return

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counted = sorted(r.count for r in results if isinstance(r, throttle.Hit))
    assert counted == list(range(1, 26))
    assert sum(1 for r in results if isinstance(r, throttle.Hit) and r.just_locked) == 1
    assert results.count("locked") == 5
