"""One sender's messages are claimed one at a time, across gateway workers too."""
from datetime import UTC, datetime, timedelta

from billing.db.engine import make_engine
from bot import message_store as store

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _inbound(engine, text, sender="sms:+15550001111", status="received", at=NOW):
    return store.record_inbound(engine, channel="sms", sender_key=sender, text=text,
                                external_id=f"SM{text}", status=status, now=at)


def test_a_second_worker_claims_nothing_while_the_sender_is_being_answered(db_url):
    engine = make_engine(db_url)
    first = _inbound(engine, "one")
    second = _inbound(engine, "two")
    worker_a = store.claim_next(engine, "sms:+15550001111", NOW)
    assert worker_a.id == first
    # worker B, woken by the second message, must not overtake the first
    assert store.claim_next(engine, "sms:+15550001111", NOW) is None
    # another sender is not held up
    other = _inbound(engine, "three", sender="sms:+15550002222")
    assert store.claim_next(engine, "sms:+15550002222", NOW).id == other
    store.finish_inbound(engine, first, "answered", NOW)
    assert store.claim_next(engine, "sms:+15550001111", NOW).id == second
    engine.dispose()


def test_a_message_stuck_in_processing_stops_holding_the_sender_once_stale(db_url):
    engine = make_engine(db_url)
    stuck = _inbound(engine, "crashed", status="processing", at=NOW)
    waiting = _inbound(engine, "next")
    assert store.claim_next(engine, "sms:+15550001111", NOW) is None
    later = NOW + store.STALE_AFTER + timedelta(seconds=1)
    assert store.claim_next(engine, "sms:+15550001111", later).id == stuck
    store.finish_inbound(engine, stuck, "answered", later)
    assert store.claim_next(engine, "sms:+15550001111", later).id == waiting
    engine.dispose()
