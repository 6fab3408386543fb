"""Retention deletes transcripts and Rasa tracker events older than the period, keeps the rest,
and a dry run only counts."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from billing import throttle
from billing.throttle import Limit
from bot.cli import main
from bot.messaging_models import INBOUND, OUTBOUND, Message
from bot.retention import cutoff_for, purge, purge_messages, purge_tracker_events
from tests.conftest import throwaway_pg_database

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _message(s: Session, when: datetime, direction: str = INBOUND, reply_to: int | None = None,
             sender: str = "sms:+15551234567") -> int:
    row = Message(direction=direction, channel="sms", sender_key=sender, text="hello",
                  status="answered" if direction == INBOUND else "sent", reply_to_id=reply_to,
                  created_at=when, updated_at=when)
    s.add(row)
    s.flush()
    return row.id


def _rasa_events_table(metadata: MetaData) -> Table:
    """The columns of Rasa 3.6's SQLTrackerStore.SQLEvent."""
    return Table("events", metadata,
                 Column("id", Integer, primary_key=True),
                 Column("sender_id", String(255), nullable=False, index=True),
                 Column("type_name", String(255), nullable=False),
                 Column("timestamp", Float),
                 Column("intent_name", String(255)),
                 Column("action_name", String(255)),
                 Column("data", Text))


@pytest.fixture(params=["sqlite", "postgres"])
def tracker_url(request, tmp_path):
    """An empty Rasa-shaped tracker store: a SQLite file, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rasa-tracker.db'}"
        return
    with throwaway_pg_database("billbot_rasa_t") as url:
        yield url.replace("postgresql+psycopg://", "postgresql://")  # as Rasa's config takes it


def _fill_tracker(url: str, stamps: list[datetime]) -> None:
    from bot.retention import tracker_engine

    engine = tracker_engine(url)
    metadata = MetaData()
    events = _rasa_events_table(metadata)
    metadata.create_all(engine)
    with engine.begin() as c:
        c.execute(insert(events), [
            {"sender_id": f"sms:+1555000{i:04d}", "type_name": "user", "timestamp": t.timestamp(),
             "intent_name": "ask_balance", "data": "{}"} for i, t in enumerate(stamps)])
    engine.dispose()


def _tracker_stamps(url: str) -> list[float]:
    from bot.retention import tracker_engine

    engine = tracker_engine(url)
    with engine.connect() as c:
        out = sorted(c.execute(text("SELECT timestamp FROM events")).scalars())
    engine.dispose()
    return out


def test_old_messages_are_deleted_and_recent_ones_kept(engine):
    cutoff = NOW - timedelta(days=30)
    with Session(engine) as s, s.begin():
        old_in = _message(s, cutoff - timedelta(days=1))
        _message(s, cutoff - timedelta(days=1), OUTBOUND, reply_to=old_in)
        edge_in = _message(s, cutoff - timedelta(seconds=1))
        # A reply written just after the cutoff to a message from just before it.
        edge_out = _message(s, cutoff + timedelta(seconds=1), OUTBOUND, reply_to=edge_in)
        recent = _message(s, NOW - timedelta(hours=1))
    assert purge_messages(engine, cutoff, dry_run=True) == 3
    with Session(engine) as s:
        assert s.scalar(select(Message.id).where(Message.id == old_in)) == old_in
    assert purge_messages(engine, cutoff, batch=2) == 3
    with Session(engine) as s:
        left = {m.id: m for m in s.scalars(select(Message))}
    assert set(left) == {edge_out, recent}
    assert left[edge_out].reply_to_id is None and left[edge_out].text == "hello"
    assert purge_messages(engine, cutoff) == 0


def test_tracker_events_older_than_the_cutoff_are_deleted(tracker_url):
    cutoff = NOW - timedelta(days=30)
    stamps = [cutoff - timedelta(days=5), cutoff - timedelta(minutes=1),
              cutoff + timedelta(minutes=1), NOW]
    _fill_tracker(tracker_url, stamps)
    from bot.retention import tracker_engine

    engine = tracker_engine(tracker_url)
    try:
        assert purge_tracker_events(engine, cutoff, dry_run=True) == 2
        assert len(_tracker_stamps(tracker_url)) == 4
        assert purge_tracker_events(engine, cutoff, batch=1) == 2
    finally:
        engine.dispose()
    assert _tracker_stamps(tracker_url) == [stamps[2].timestamp(), NOW.timestamp()]


def test_a_tracker_store_rasa_has_not_started_yet_has_nothing_to_delete(tmp_path):
    from bot.retention import tracker_engine

    engine = tracker_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert purge_tracker_events(engine, NOW) == 0
    engine.dispose()


def test_one_run_cleans_both_stores_and_says_what_it_did(db_url, tracker_url, engine):
    with Session(engine) as s, s.begin():
        _message(s, NOW - timedelta(days=100))
        _message(s, NOW - timedelta(days=2))
    _fill_tracker(tracker_url, [NOW - timedelta(days=100), NOW - timedelta(days=95),
                                NOW - timedelta(days=2)])
    result = purge(db_url, tracker_url, NOW, days=90)
    assert (result.messages, result.tracker_events) == (1, 2)
    assert result.cutoff == NOW - timedelta(days=90)
    assert result.summary() == ("deleted 1 message(s) and 2 Rasa tracker event(s) older than "
                                "2026-03-03T12:00:00+00:00")
    assert purge(db_url, "", NOW, days=90).tracker_events is None


def test_the_period_must_be_at_least_a_day():
    with pytest.raises(ValueError, match="at least 1 day"):
        cutoff_for(NOW, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        cutoff_for(NOW.replace(tzinfo=None), 30)


def test_billbot_retention_dry_run_counts_and_deletes_nothing(sqlite_url, monkeypatch, capsys,
                                                              tmp_path):
    from billing.db.engine import make_engine

    now = datetime.now(UTC)
    engine = make_engine(sqlite_url)
    with Session(engine) as s, s.begin():
        _message(s, now - timedelta(days=40))
        _message(s, now - timedelta(days=1))
    tracker = f"sqlite:///{tmp_path / 'rasa-tracker.db'}"
    _fill_tracker(tracker, [now - timedelta(days=40)])
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("RASA_TRACKER_STORE_URL", tracker)
    assert main(["retention", "--days", "30", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith(
        "would delete 1 message(s) and 1 Rasa tracker event(s) older than ")
    with Session(engine) as s:
        assert len(s.scalars(select(Message)).all()) == 2
    assert main(["retention", "--days", "30"]) == 0
    assert capsys.readouterr().out.startswith("deleted 1 message(s) and 1 Rasa tracker event(s)")
    assert main(["retention", "--days", "0"]) == 2
    assert "--days must be at least 1" in capsys.readouterr().err
    engine.dispose()


def test_expired_limit_counters_are_forgotten_and_live_ones_kept(db_url, engine):
    with Session(engine) as s, s.begin():
        throttle.hit(s, "web_messages_session:old", Limit.minutes(20, 1, 1), NOW - timedelta(days=8))
        for _ in range(5):
            throttle.hit(s, "verify_account:A1", Limit.minutes(5, 1440, 60 * 24 * 30),
                         NOW - timedelta(days=8))
        throttle.hit(s, "web_messages_session:new", Limit.minutes(20, 1, 1), NOW)
    result = purge(db_url, "", NOW, days=90)
    assert result.throttles == 1 and "1 expired limit counter(s)" in result.summary()
    with Session(engine) as s:
        assert throttle.locked_until(s, "verify_account:A1", NOW) is not None
        assert throttle.hit(s, "web_messages_session:new", Limit.minutes(20, 1, 1), NOW).count == 2
