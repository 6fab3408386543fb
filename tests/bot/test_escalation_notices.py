"""New escalations announced to the representatives' Telegram group by the gateway: once each
however many workers run, whichever process created them, without patient data, retried when
the post fails; off without REPRESENTATIVES_TELEGRAM_CHAT_ID."""
from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.clock import FixedClock
from billing.db.engine import make_engine
from billing.escalations.models import Escalation
from billing.escalations.service import escalate
from bot import message_store as store
from bot.channels.telegram_transport import TelegramSender, make_bot
from bot.console import queue
from bot.escalation_notices import EscalationNotifier, claim_new, make_notifier
from clinic.settings import Settings
from tests.doubles.telegram import TelegramDouble
from tests.gateway_support import BOT_TOKEN, PATIENT_PHONE, Gateway

pytest_plugins = ["tests.gateway_support"]  # the doubles and settings fixtures

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
GROUP = "-1001234567890"


def notices(telegram_api) -> list[tuple[int, str]]:
    return [(int(c["chat_id"]), c["text"]) for c in telegram_api.calls("sendMessage")]


def notified(engine) -> dict[int, datetime | None]:
    with Session(engine) as s:
        return dict(s.execute(select(Escalation.id, Escalation.notified_at)).all())


def from_each_process(engine) -> tuple[int, int, int]:
    """An escalation from the action server, one from the pipeline, one from the console."""
    with Session(engine) as s, s.begin():
        by_action = escalate(session=s, sender_key=f"sms:{PATIENT_PHONE}", channel="sms",
                             reason="request_human", now=NOW).id
    by_pipeline = store.queue_escalation(engine, sender_key="tg:424242", channel="telegram",
                                         reason="assistant_unavailable", now=NOW)
    with Session(engine) as s, s.begin():
        by_console = queue.take_over(s, "web:chat-1", "web", None, "rita", NOW).id
    return by_action, by_pipeline, by_console


def test_each_new_escalation_is_posted_once_without_patient_data(settings, telegram_api):
    grouped = settings.replace(representatives_telegram_chat_id=GROUP)
    with Gateway(grouped, clock=FixedClock(NOW), notify_interval_s=None) as gw:
        by_action, by_pipeline, by_console = from_each_process(gw.engine)
        gw.client.portal.call(gw.app.state.notifier.notify_once)
        gw.client.portal.call(gw.app.state.notifier.notify_once)  # nothing new: nothing posted
        assert sorted(notices(telegram_api)) == [
            (int(GROUP), f"New escalation #{by_action} (request_human, priority 2)"),
            (int(GROUP), f"New escalation #{by_pipeline} (assistant_unavailable, priority 1)"),
        ]
        # A takeover is already with a representative: nobody needs to be called for it.
        assert notified(gw.engine)[by_console] is None
        assert notified(gw.engine)[by_action] == NOW
    assert not any(PATIENT_PHONE in text or "424242" in text
                   for _, text in notices(telegram_api))


def test_a_failed_post_is_given_back_and_posted_on_the_next_pass(settings, telegram_api):
    grouped = settings.replace(representatives_telegram_chat_id=GROUP)
    with Gateway(grouped, clock=FixedClock(NOW), notify_interval_s=None) as gw:
        esc_id = store.queue_escalation(gw.engine, sender_key="web:abc", channel="web",
                                        reason="assistant_unavailable", now=NOW)
        telegram_api.fail_next("sendMessage", status=400,
                               description="Bad Request: chat not found")
        assert gw.client.portal.call(gw.app.state.notifier.notify_once) == 0
        assert notified(gw.engine)[esc_id] is None
        assert gw.client.portal.call(gw.app.state.notifier.notify_once) == 1
        assert notified(gw.engine)[esc_id] == NOW
    assert notices(telegram_api)[-1][1].startswith(f"New escalation #{esc_id} ")


def test_old_or_closed_escalations_are_not_announced(settings, telegram_api):
    grouped = settings.replace(representatives_telegram_chat_id=GROUP)
    with Gateway(grouped, clock=FixedClock(NOW), notify_interval_s=None) as gw:
        with Session(gw.engine) as s, s.begin():
            s.add(Escalation(sender_key="web:old", channel="web", reason="dispute", priority=2,
                             status="queued", created_at=NOW - timedelta(days=2)))
            s.add(Escalation(sender_key="web:done", channel="web", reason="dispute",
                             priority=2, status="closed", created_at=NOW))
        assert gw.client.portal.call(gw.app.state.notifier.notify_once) == 0
    assert notices(telegram_api) == []


def test_the_gateway_posts_new_escalations_by_itself(settings, telegram_api):
    grouped = settings.replace(representatives_telegram_chat_id=GROUP)
    with Gateway(grouped, notify_interval_s=0.2) as gw:
        esc_id = store.queue_escalation(gw.engine, sender_key="web:abc", channel="web",
                                        reason="assistant_unavailable",
                                        now=datetime.now(UTC))
        for _ in range(100):
            if notices(telegram_api):
                break
            threading.Event().wait(0.1)
    assert notices(telegram_api) == [
        (int(GROUP), f"New escalation #{esc_id} (assistant_unavailable, priority 1)")]


@pytest.mark.parametrize("chat_id", ["", "  ", "@billing-team", "12ab"])
def test_notices_are_off_without_a_usable_chat_id(settings, chat_id):
    grouped = settings.replace(representatives_telegram_chat_id=chat_id)
    sender = TelegramSender(make_bot(grouped))
    assert make_notifier(grouped, None, sender) is None


def test_notices_need_the_telegram_bot(settings):
    grouped = settings.replace(representatives_telegram_chat_id=GROUP)
    assert make_notifier(grouped, None, None) is None


def test_concurrent_claims_never_take_one_escalation_twice(db_url):
    engine = make_engine(db_url)
    ids = [store.queue_escalation(engine, sender_key=f"web:s{i}", channel="web",
                                  reason="assistant_unavailable", now=NOW)
           for i in range(30)]
    results: list[list[int]] = []
    start = threading.Barrier(3)

    def worker():
        own = make_engine(db_url)
        start.wait()
        got: list[int] = []
        for _ in range(3):
            got += [e.id for e in claim_new(own, NOW, limit=12)]
        results.append(got)
        own.dispose()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = [i for got in results for i in got]
    assert sorted(claimed) == ids  # every one claimed, none twice
    engine.dispose()


def test_two_gateway_workers_post_each_escalation_once(db_url):
    engine = make_engine(db_url)
    ids = [store.queue_escalation(engine, sender_key=f"web:w{i}", channel="web",
                                  reason="assistant_unavailable", now=NOW)
           for i in range(8)]

    async def two_workers(url):
        settings = Settings(telegram_bot_token=BOT_TOKEN, telegram_api_base_url=url)
        workers = [EscalationNotifier(make_engine(db_url),
                                      TelegramSender(make_bot(settings), per_chat_interval_s=0),
                                      GROUP, FixedClock(NOW)) for _ in range(2)]
        posted = await asyncio.gather(*(w.notify_once() for w in workers))
        for w in workers:
            await w.sender.stop()
            w.engine.dispose()
        return posted

    with TelegramDouble(BOT_TOKEN) as api:
        posted = asyncio.run(two_workers(api.url))
        texts = [c["text"] for c in api.calls("sendMessage")]
    assert sum(posted) == len(ids) == len(texts)
    assert sorted(texts) == sorted(f"New escalation #{i} (assistant_unavailable, priority 1)"
                                   for i in ids)
    engine.dispose()


def test_the_notice_says_when_the_patient_writes_in_spanish(settings, telegram_api):
    from billing.languages.enums import LanguageSource
    from billing.languages.service import remember
    grouped = settings.replace(representatives_telegram_chat_id=GROUP)
    with Gateway(grouped, clock=FixedClock(NOW), notify_interval_s=None) as gw:
        with Session(gw.engine) as s, s.begin():
            remember(s, "web:es", "es", LanguageSource.DETECTED, NOW)
        spanish = store.queue_escalation(gw.engine, sender_key="web:es", channel="web",
                                         reason="request_human", now=NOW)
        english = store.queue_escalation(gw.engine, sender_key="web:en", channel="web",
                                         reason="request_human", now=NOW)
        gw.client.portal.call(gw.app.state.notifier.notify_once)
    assert sorted(text for _, text in notices(telegram_api)) == [
        f"New escalation #{spanish} (request_human, priority 2); the patient writes in Spanish",
        f"New escalation #{english} (request_human, priority 2)",
    ]
