"""A channel is one object: a fake one, defined here and registered with Channels, carries a
message through the real pipeline (stored, sent to Rasa, answered) and answers its own
control word, with no other module told about it."""
from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.db.engine import make_engine
from bot.channels.base import Channel, Control, InboundMessage, SendResult, Sent
from bot.channels.registry import Channels
from bot.messaging_models import Message
from bot.pipeline import Pipeline
from bot.rasa_client import RasaClient
from clinic.settings import Settings
from tests.doubles.rasa import RasaDouble


class Ping(Control):
    """PING is answered by the channel itself; Rasa never sees it."""

    async def check(self, message, conversation):
        return True if message.text.strip().upper() == "PING" else None

    async def handle(self, message, found, conversation) -> Sent:
        sent = await conversation.deliver(message.sender_key, ["PONG"], reply_to=message.id)
        await conversation.finish(message, "answered")
        return sent


class PigeonChannel(Channel):
    """Carries at most 10 characters a flight; remembers every flight."""

    name = "pigeon"
    controls = (Ping(),)

    def __init__(self):
        self.flights: list[tuple[str, str]] = []

    def split(self, text: str) -> list[str]:
        return [text[i:i + 10] for i in range(0, len(text), 10)]

    async def send(self, user: str, text: str) -> SendResult:
        self.flights.append((user, text))
        return SendResult("sent", external_id=f"flight-{len(self.flights)}")


def _run(sqlite_url: str, rasa: RasaDouble, pigeon: PigeonChannel, *texts: str):
    engine = make_engine(sqlite_url)
    settings = Settings(database_url=sqlite_url, rasa_url=rasa.url)

    async def go():
        pipeline = Pipeline(settings, engine, RasaClient(rasa.url, 2.0), Channels([pigeon]))
        try:
            for n, text in enumerate(texts):
                inbound = InboundMessage("pigeon", "loft-7", text, external_id=f"band-{n}")
                assert await pipeline.accept(inbound) is not None
                pipeline.schedule(inbound.sender_key)
                await pipeline.wait_idle(10.0)
        finally:
            await pipeline.aclose()

    asyncio.run(go())
    with Session(engine) as s:
        rows = [(m.direction, m.channel, m.sender_key, m.text, m.status)
                for m in s.scalars(select(Message).order_by(Message.id))]
    engine.dispose()
    return rows


def test_a_registered_channel_round_trips_through_rasa(sqlite_url):
    pigeon = PigeonChannel()
    with RasaDouble() as rasa:
        rows = _run(sqlite_url, rasa, pigeon, "owe?")
        assert rasa.received[0]["sender"] == "pigeon:loft-7"
    # "Got it: owe?" is 12 characters: two flights, split by the channel's own rule.
    assert pigeon.flights == [("loft-7", "Got it: ow"), ("loft-7", "e?")]
    assert rows == [
        ("in", "pigeon", "pigeon:loft-7", "owe?", "answered"),
        ("out", "pigeon", "pigeon:loft-7", "Got it: ow", "sent"),
        ("out", "pigeon", "pigeon:loft-7", "e?", "sent"),
    ]


def test_a_channels_control_word_is_answered_without_rasa(sqlite_url):
    pigeon = PigeonChannel()
    with RasaDouble() as rasa:
        rows = _run(sqlite_url, rasa, pigeon, "ping")
        assert rasa.received == []
    assert pigeon.flights == [("loft-7", "PONG")]
    assert [r[3:] for r in rows] == [("ping", "answered"), ("PONG", "sent")]
