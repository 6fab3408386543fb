"""The one message pipeline every channel shares: an authenticated InboundMessage is
deduplicated, masked, persisted, offered to its channel's control words (STOP, HELP...),
routed (to Rasa, or to the representative when the conversation is assigned to one) and
answered over its own channel, each reply persisted with its delivery status.

SMS and Telegram are acknowledged first and processed here in the background, one sender's
messages strictly in order; web chat is processed while its request waits. The pipeline
knows no channel by name: what differs per channel is in bot.channels.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from functools import partial

from anyio import to_thread
from sqlalchemy import Engine

from billing.core.clock import Clock
from billing.core.sender_key import SenderKey
from bot import message_store as store
from bot.channels.base import InboundMessage, SendResult, Sent
from bot.channels.registry import Channels
from bot.conversation_language import TurnLanguage, decide
from bot.logging import sender_ref
from bot.pipeline_observer import PipelineObserver
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.redact import CARD_MASK, mask_cards
from clinic import wording
from clinic.office_hours import away_notice
from clinic.settings import Settings

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 30.0
__all__ = ["InboundMessage", "Pipeline", "Replies", "Sent"]  # what callers import from here


class Replies:
    """What the assistant says on its own behalf (never amounts: those come from Rasa); the
    sentences are the catalogue's (clinic.wording, gateway.*)."""

    def __init__(self, settings: Settings):
        self.s = settings

    def _text(self, msg_id: str, **params: object) -> str:
        s = self.s
        return wording.text(msg_id, clinic_name=s.clinic_name, clinic_phone=s.clinic_phone,
                    office_hours=s.office_hours, payment_link=s.payment_link, **params)

    def help(self) -> str:
        return self._text("gateway.help")

    def opted_out(self) -> str:
        return self._text("gateway.opted_out")

    def card_refused(self) -> str:
        return self._text("gateway.card_refused")

    def telegram_opted_out(self) -> str:
        return self._text("gateway.telegram_opted_out")

    def telegram_opted_in(self) -> str:
        return self._text("gateway.telegram_opted_in")

    def text_only(self) -> str:
        return self._text("gateway.text_only")

    def too_many_messages(self) -> str:
        """The web chat's answer over its message limit (bot/web_limits.py)."""
        return self._text("gateway.too_many_messages")

    def language_switched(self) -> str:
        """The answer to ESPAÑOL / ENGLISH, in the language just chosen."""
        return self._text("gateway.language_switched")

    def unavailable(self, away: str | None = None) -> str:
        """`away`: when someone will answer, outside office hours (clinic.office_hours)."""
        if away:
            return self._text("gateway.unavailable_away", away=away)
        return self._text("gateway.unavailable")


class Pipeline:
    """Receives, routes and answers every channel's messages (see the module docstring)."""

    def __init__(
        self, settings: Settings, engine: Engine, rasa: RasaClient,
        channels: Channels | None = None, clock: Clock | None = None,
        observers: Iterable[PipelineObserver] = (),
        rasa_by_language: Mapping[str, RasaClient] | None = None,
    ):
        """channels: the configured ones (build_channels); the web chat alone by default.
        rasa: the English model's Rasa; rasa_by_language: each other language's (Spanish),
        one model per language."""
        self.settings = settings
        self.engine = engine
        self.rasa = rasa
        self.rasa_models: dict[str, RasaClient] = {**(rasa_by_language or {}), "en": rasa}
        self.channels = channels if channels is not None else Channels()
        self.clock = clock or Clock()
        self.replies = Replies(settings)
        self.observers = list(observers)
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()

    async def db(self, fn, *args, **kwargs):
        """Run a message_store function (engine first) in a worker thread."""
        return await to_thread.run_sync(partial(fn, self.engine, *args, **kwargs))

    def notify(self, hook: str, *args) -> None:
        """Tell every observer; a broken observer is logged, never lets a reply fail."""
        for observer in self.observers:
            try:
                getattr(observer, hook)(*args)
            except Exception:
                log.exception("pipeline observer failed", extra={"reason": hook})

    def _lock(self, sender_key: str) -> asyncio.Lock:
        return self._locks.setdefault(sender_key, asyncio.Lock())

    # -- receiving ---------------------------------------------------------------------
    async def accept(self, msg: InboundMessage) -> int | None:
        """Mask and store a message for background processing; the row is committed when
        this returns. None when the channel's id was seen before (a retry)."""
        masked = mask_cards(msg.text).text
        mid = await self.db(
            store.record_inbound, channel=msg.channel, sender_key=msg.sender_key, text=masked,
            external_id=msg.external_id, status="received", now=self.clock.now(),
        )
        if mid is None:
            log.info("duplicate inbound ignored", extra={"channel": msg.channel})
        else:
            self.notify("received", msg.channel)
            log.info("inbound stored", extra={"message_id": mid, "channel": msg.channel,
                                              "sender_ref": sender_ref(msg.sender_key)})
        return mid

    def schedule(self, sender_key: str) -> None:
        """Process a sender's pending messages in the background, in order."""
        task = asyncio.get_running_loop().create_task(self.drain(sender_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, sender_key: str) -> None:
        """Process a sender's stored messages one at a time until none is left."""
        async with self._lock(sender_key):
            while True:
                pending = await self.db(store.claim_next, sender_key, self.clock.now())
                if pending is None:
                    return
                await self._process_safely(pending)

    async def handle_now(self, msg: InboundMessage) -> Sent:
        """Web chat: store, process and return the replies while the caller waits."""
        async with self._lock(msg.sender_key):
            masked = mask_cards(msg.text).text
            mid = await self.db(
                store.record_inbound, channel=msg.channel, sender_key=msg.sender_key,
                text=masked, external_id=msg.external_id, status="processing",
                now=self.clock.now(),
            )
            if mid is None:
                return Sent()
            self.notify("received", msg.channel)
            pending = store.PendingMessage(mid, msg.channel, msg.sender_key, masked,
                                           msg.client_ref)
            return await self._process_safely(pending)

    async def sweep(self) -> int:
        """Schedule every sender with messages never processed (e.g. after a crash)."""
        senders = await self.db(store.senders_with_pending, self.clock.now())
        for key in senders:
            self.schedule(key)
        if senders:
            log.info("sweep picked up pending senders", extra={"count": len(senders)})
        return len(senders)

    async def sweep_forever(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Sweep every interval until cancelled; a failed sweep is logged and retried."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(interval_s)

    async def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Wait for background processing to finish (shutdown, tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - loop.time()))

    # -- routing -----------------------------------------------------------------------
    async def _process_safely(self, m: store.PendingMessage) -> Sent:
        try:
            return await self._process(m)
        except Exception:
            log.exception("processing failed", extra={"message_id": m.id})
            return await self._unanswered(m)

    async def finish(self, m: store.PendingMessage, status: str) -> None:
        """Record how an inbound message ended (answered, opt_out, unanswered...)."""
        await self.db(store.finish_inbound, m.id, status, self.clock.now())
        log.info("inbound handled", extra={"message_id": m.id, "status": status,
                                           "channel": m.channel})

    async def _language(self, m: store.PendingMessage) -> TurnLanguage:
        return await to_thread.run_sync(partial(
            decide, self.engine, m.sender_key, m.text, self.clock.now(),
            idle_minutes=self.settings.verification_idle_minutes,
            models=frozenset(self.rasa_models)))

    async def _process(self, m: store.PendingMessage) -> Sent:
        lang = await self._language(m)
        with wording.speaking(lang.reply):
            return await self._process_in(m, lang)

    async def _process_in(self, m: store.PendingMessage, lang: TurnLanguage) -> Sent:
        key = SenderKey.parse(m.sender_key)
        channel = self.channels.get(key.channel)
        for control in channel.controls if channel is not None else ():
            if (found := await control.check(m, self)) is not None:
                handled = await control.handle(m, found, self)
                if handled is not None:
                    return handled
                break  # the control let the assistant answer after all
        if lang.switched:
            sent = await self.deliver(m.sender_key, [self.replies.language_switched()],
                                      reply_to=m.id)
            await self.finish(m, "answered")
            return sent
        if not m.text.strip():
            sent = await self.deliver(m.sender_key, [self.replies.text_only()], reply_to=m.id)
            await self.finish(m, "answered")
            return sent
        if CARD_MASK in m.text:
            sent = await self.deliver(m.sender_key, [self.replies.card_refused()], reply_to=m.id)
            await self.finish(m, "answered")
            return sent
        if await self.db(store.has_assigned_escalation, m.sender_key):
            await self.finish(m, "for_representative")
            return Sent()
        texts = await self._ask(m, key, lang)
        if not texts:
            return await self._unanswered(m)
        sent = await self.deliver(m.sender_key, texts, reply_to=m.id)
        await self.finish(m, "answered")
        return sent

    async def _ask(self, m: store.PendingMessage, key: SenderKey,
                   lang: TurnLanguage | None = None) -> list[str]:
        """Rasa's answer, or [] when it is unavailable (the caller escalates). The message
        goes to the model of lang.model; the actions answer in lang.reply."""
        started = time.perf_counter()
        rasa = self.rasa_models.get(lang.model, self.rasa) if lang else self.rasa
        try:
            texts = await rasa.ask(m.sender_key, m.text, key.channel, key.user, m.client_ref,
                                   lang=lang.reply if lang else None)
        except RasaUnavailable as exc:
            self.notify("assistant_failed", time.perf_counter() - started)
            log.warning("assistant unavailable", extra={"message_id": m.id, "reason": str(exc)})
            return []
        self.notify("assistant_answered", time.perf_counter() - started)
        return texts

    async def _unanswered(self, m: store.PendingMessage) -> Sent:
        reason = "assistant_unavailable"
        esc = await self.db(
            store.queue_escalation, sender_key=m.sender_key,
            channel=SenderKey.parse(m.sender_key).channel,
            reason=reason, now=self.clock.now(),
        )
        self.notify("escalated", reason)
        log.info("queued for a representative", extra={"message_id": m.id, "escalation_id": esc})
        await self.finish(m, "unanswered")
        away = away_notice(self.settings, self.clock.now())
        return await self.deliver(m.sender_key, [self.replies.unavailable(away)], reply_to=m.id)

    # -- delivering --------------------------------------------------------------------
    async def deliver(
        self, sender_key: str, texts: list[str], reply_to: int | None = None,
        confirm_opt_out: bool = False,
    ) -> Sent:
        """Send texts to a sender over its own channel, in order, each part persisted with
        its delivery status. Returns the parts that went out (with the ids of the rows
        written: see Sent). Representatives' replies use this too. confirm_opt_out: the
        one message a channel's suppression lets through (the opt-out confirmation)."""
        key = SenderKey.parse(sender_key)
        channel = self.channels.get(key.channel)
        sent = await self._deliver(channel, key, sender_key, texts, reply_to, confirm_opt_out)
        self.notify("sent", key.channel, len(sent))
        return sent

    async def _deliver(self, channel, key: SenderKey, sender_key: str, texts: list[str],
                       reply_to: int | None, confirm_opt_out: bool) -> Sent:
        delivered: list[tuple[int, str]] = []
        written: list[int] = []
        for text in texts:
            masked = mask_cards(text).text
            parts = channel.split(masked) if channel is not None else [masked]
            for part in parts:
                now = self.clock.now()
                row = {"channel": key.channel, "sender_key": sender_key, "text": part,
                       "reply_to_id": reply_to, "now": now}
                if channel is not None and not confirm_opt_out \
                        and await channel.suppressed(key.user, self):
                    written.append(await self.db(store.add_outbound, status="suppressed", **row))
                    continue
                oid = await self.db(store.add_outbound, status="queued", **row)
                written.append(oid)
                if channel is None:
                    result = SendResult("failed", error_code="no_channel")
                else:
                    result = await channel.send(key.user, part)
                await self.db(store.record_send_result, oid, result, self.clock.now())
                log.info("outbound", extra={"message_id": oid, "status": result.status,
                                            "error_code": result.error_code,
                                            "channel": key.channel})
                if result.opted_out:
                    await channel.refused(key.user, self)
                    return Sent(delivered, written)
                if result.status in ("sent", "delivered"):
                    delivered.append((oid, part))
        return Sent(delivered, written)

    async def aclose(self) -> None:
        """Let background work finish (briefly), then close the Rasa client."""
        await self.wait_idle(10.0)
        for task in list(self._tasks):
            task.cancel()
        for rasa in self.rasa_models.values():
            await rasa.aclose()
