"""The one message pipeline every channel shares: an authenticated InboundMessage is
deduplicated, masked, persisted, checked for SMS consent words, routed (to Rasa, or to the
representative when the conversation is assigned to one) and answered over its own channel,
each reply persisted with its delivery status.

SMS and Telegram are acknowledged first and processed here in the background, one sender's
messages strictly in order; web chat is processed while its request waits.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass
from functools import partial

from anyio import to_thread
from sqlalchemy import Engine

from billing.core.clock import Clock
from bot import message_store as store
from bot.logging import sender_ref
from bot.optout import Consent, classify, is_carrier_keyword
from bot.outbound import SendResult
from bot.outbound.telegram import split_for_telegram
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.redact import CARD_MASK, mask_cards
from bot.segments import split_segments
from clinic.office_hours import away_notice
from clinic.settings import Settings

log = logging.getLogger(__name__)

CHANNEL_PREFIX = {"sms": "sms", "telegram": "tg", "web": "web"}
PREFIX_CHANNEL = {v: k for k, v in CHANNEL_PREFIX.items()}
SWEEP_INTERVAL_S = 30.0


@dataclass(frozen=True)
class InboundMessage:
    """A message whose channel has already been authenticated by its adapter."""

    channel: str  # sms | telegram | web
    channel_user: str  # E.164 phone, Telegram chat id, web session id
    text: str
    external_id: str | None = None  # MessageSid, update_id; None for web
    client_ref: str | None = None  # web: the client's hashed address (bot/client_address.py)

    @property
    def sender_key(self) -> str:
        return f"{CHANNEL_PREFIX[self.channel]}:{self.channel_user}"


def channel_user_of(sender_key: str) -> tuple[str, str]:
    prefix, _, user = sender_key.partition(":")
    return PREFIX_CHANNEL[prefix], user


class Sent(list):
    """What Pipeline.deliver sent: a list of the texts of the parts that went out (what every
    caller has always read), with `ids`, the outbound message id of each of those parts, and
    `written`, the id of every outbound row written, whether it went out or not (suppressed,
    failed), in order."""

    def __init__(self, parts: list[tuple[int, str]] | None = None,
                 written: list[int] | None = None):
        parts = parts or []
        super().__init__(text for _, text in parts)
        self.ids: list[int] = [mid for mid, _ in parts]
        self.written: list[int] = list(written or [])

    def pairs(self) -> list[tuple[int, str]]:
        """(message id, text) of each part that went out."""
        return list(zip(self.ids, self, strict=True))


class WebSender:
    """Web replies travel back in the HTTP response; sending is recording."""

    async def send(self, channel_user: str, text: str) -> SendResult:
        return SendResult("delivered")


class Replies:
    """What the assistant says on its own behalf (never amounts: those come from Rasa)."""

    def __init__(self, settings: Settings):
        self.s = settings

    def help(self) -> str:
        s = self.s
        return (
            f"{s.clinic_name} billing help: ask here or call {s.clinic_phone} "
            f"({s.office_hours}). Reply STOP to opt out. Msg&data rates may apply."
        )

    def opted_out(self) -> str:
        return f"{self.s.clinic_name}: you will get no more texts from us. Reply START to resume."

    def card_refused(self) -> str:
        return (
            "For your security we removed the card number from your message: please never "
            f"send card details by text or chat. You can pay safely at {self.s.payment_link} "
            f"or call {self.s.clinic_phone}."
        )

    def telegram_opted_out(self) -> str:
        return (f"{self.s.clinic_name}: you will get no more reminders here. You can still ask "
                "me about your bill any time. Send START to get reminders again.")

    def telegram_opted_in(self) -> str:
        return f"{self.s.clinic_name}: reminders are on again in this chat. Send STOP to end them."

    def too_many_messages(self) -> str:
        """The web chat's answer over its message limit (bot/web_limits.py)."""
        return ("You're sending messages faster than I can answer. Please wait a minute and "
                f"try again, or call {self.s.clinic_phone} ({self.s.office_hours}).")

    def text_only(self) -> str:
        return "I can only read text messages. Please type your question."

    def unavailable(self, away: str | None = None) -> str:
        """`away`: when someone will answer, outside office hours (clinic.office_hours)."""
        if away:
            follow_up = f"I've asked someone from {self.s.clinic_name} to follow up. {away}"
        else:
            follow_up = f"Someone from {self.s.clinic_name} will follow up with you soon."
        return (
            f"Sorry, I can't answer right now. {follow_up} "
            f"You can also call {self.s.clinic_phone} ({self.s.office_hours})."
        )


class Pipeline:
    def __init__(
        self, settings: Settings, engine: Engine, rasa: RasaClient, senders: dict,
        clock: Clock | None = None,
    ):
        self.settings = settings
        self.engine = engine
        self.rasa = rasa
        self.senders = {"web": WebSender(), **senders}
        self.clock = clock or Clock()
        self.replies = Replies(settings)
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()

    async def db(self, fn, *args, **kwargs):
        return await to_thread.run_sync(partial(fn, self.engine, *args, **kwargs))

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
            log.info("inbound stored", extra={"message_id": mid, "channel": msg.channel,
                                              "sender_ref": sender_ref(msg.sender_key)})
        return mid

    def schedule(self, sender_key: str) -> None:
        """Process a sender's pending messages in the background, in order."""
        task = asyncio.get_running_loop().create_task(self.drain(sender_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, sender_key: str) -> None:
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
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(interval_s)

    async def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Wait for background processing to finish (shutdown, tests)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - asyncio.get_running_loop().time()))

    # -- routing -----------------------------------------------------------------------
    async def _process_safely(self, m: store.PendingMessage) -> Sent:
        try:
            return await self._process(m)
        except Exception:
            log.exception("processing failed", extra={"message_id": m.id})
            return await self._unanswered(m)

    async def _finish(self, m: store.PendingMessage, status: str) -> None:
        await self.db(store.finish_inbound, m.id, status, self.clock.now())
        log.info("inbound handled", extra={"message_id": m.id, "status": status,
                                           "channel": m.channel})

    async def _process(self, m: store.PendingMessage) -> Sent:
        channel, user = channel_user_of(m.sender_key)
        if channel == "sms":
            handled = await self._sms_consent(m, user)
            if handled is not None:
                return handled
        if channel == "telegram":
            handled = await self._telegram_consent(m, user)
            if handled is not None:
                return handled
        if not m.text.strip():
            sent = await self.deliver(m.sender_key, [self.replies.text_only()], reply_to=m.id)
            await self._finish(m, "answered")
            return sent
        if CARD_MASK in m.text:
            sent = await self.deliver(m.sender_key, [self.replies.card_refused()], reply_to=m.id)
            await self._finish(m, "answered")
            return sent
        if await self.db(store.has_assigned_escalation, m.sender_key):
            await self._finish(m, "for_representative")
            return Sent()
        try:
            texts = await self.rasa.ask(m.sender_key, m.text, channel, user, m.client_ref)
        except RasaUnavailable as exc:
            log.warning("assistant unavailable", extra={"message_id": m.id, "reason": str(exc)})
            texts = []
        if not texts:
            return await self._unanswered(m)
        sent = await self.deliver(m.sender_key, texts, reply_to=m.id)
        await self._finish(m, "answered")
        return sent

    async def _sms_consent(self, m: store.PendingMessage, phone: str) -> Sent | None:
        opted_out = await self.db(store.is_opted_out, phone)
        consent = classify(m.text, opted_out=opted_out)
        now = self.clock.now()
        if consent is Consent.OPT_OUT:
            carrier = is_carrier_keyword(m.text)
            await self.db(store.record_opt_out, phone, "keyword" if carrier else "phrase", now)
            await self._finish(m, "opt_out")
            if carrier:  # Twilio's opt-out handling confirms keywords itself
                return Sent()
            return await self.deliver(m.sender_key, [self.replies.opted_out()], reply_to=m.id,
                                      confirm_opt_out=True)
        if consent is Consent.OPT_IN:
            await self.db(store.record_opt_in, phone, "keyword", now)
            await self._finish(m, "opt_in")
            return Sent()  # Twilio confirms START / UNSTOP / YES itself
        if opted_out:
            await self._finish(m, "opted_out")
            return Sent()
        if consent is Consent.HELP:
            sent = await self.deliver(m.sender_key, [self.replies.help()], reply_to=m.id)
            await self._finish(m, "answered")
            return sent
        return None

    async def _telegram_consent(self, m: store.PendingMessage, chat_id: str) -> Sent | None:
        """Telegram reminders end with "Reply STOP to opt out": STOP (and the other opt-out
        words) stops reminders in this chat, START resumes them. The patient can still ask
        the assistant anything; only reminders, which we send unasked, stop."""
        consent = classify(m.text)  # a bare "yes" stays an answer to the assistant
        if consent not in (Consent.OPT_OUT, Consent.OPT_IN):
            return None
        opt_out = consent is Consent.OPT_OUT
        was_out = await self.db(store.set_telegram_reminders, chat_id, opt_out, self.clock.now())
        if not opt_out and not was_out:
            return None  # "start" in a chat never opted out: the assistant greets
        await self._finish(m, "opt_out" if opt_out else "opt_in")
        text = self.replies.telegram_opted_out() if opt_out else self.replies.telegram_opted_in()
        return await self.deliver(m.sender_key, [text], reply_to=m.id)

    async def _unanswered(self, m: store.PendingMessage) -> Sent:
        channel, _ = channel_user_of(m.sender_key)
        esc = await self.db(
            store.queue_escalation, sender_key=m.sender_key, channel=channel,
            reason="assistant_unavailable", priority=1, now=self.clock.now(),
        )
        log.info("queued for a representative", extra={"message_id": m.id, "escalation_id": esc})
        await self._finish(m, "unanswered")
        away = away_notice(self.settings, self.clock.now())
        return await self.deliver(m.sender_key, [self.replies.unavailable(away)], reply_to=m.id)

    # -- delivering --------------------------------------------------------------------
    async def deliver(
        self, sender_key: str, texts: list[str], reply_to: int | None = None,
        confirm_opt_out: bool = False,
    ) -> Sent:
        """Send texts to a sender over its own channel, in order, each part persisted with
        its delivery status. Returns the parts that went out (with the ids of the rows
        written: see Sent). Representatives' replies use this too."""
        channel, user = channel_user_of(sender_key)
        sender = self.senders.get(channel)
        delivered: list[tuple[int, str]] = []
        written: list[int] = []
        for text in texts:
            masked = mask_cards(text).text
            if channel == "sms":
                parts = split_segments(masked)
            elif channel == "telegram":
                parts = split_for_telegram(masked)
            else:
                parts = [masked]
            for part in parts:
                now = self.clock.now()
                if channel == "sms" and not confirm_opt_out and await self.db(store.is_opted_out, user):
                    written.append(await self.db(
                        store.add_outbound, channel=channel, sender_key=sender_key, text=part,
                        status="suppressed", reply_to_id=reply_to, now=now))
                    continue
                oid = await self.db(store.add_outbound, channel=channel, sender_key=sender_key,
                                     text=part, status="queued", reply_to_id=reply_to, now=now)
                written.append(oid)
                if sender is None:
                    result = SendResult("failed", error_code="no_channel")
                elif inspect.iscoroutinefunction(sender.send):
                    result = await sender.send(user, part)
                else:
                    result = await to_thread.run_sync(sender.send, user, part)
                await self.db(store.record_send_result, oid, result, self.clock.now())
                log.info("outbound", extra={"message_id": oid, "status": result.status,
                                            "error_code": result.error_code, "channel": channel})
                if result.opted_out:
                    await self.db(store.record_opt_out, user, "twilio_21610", self.clock.now())
                    return Sent(delivered, written)
                if result.status in ("sent", "delivered"):
                    delivered.append((oid, part))
        return Sent(delivered, written)

    async def aclose(self) -> None:
        await self.wait_idle(10.0)
        for task in list(self._tasks):
            task.cancel()
        await self.rasa.aclose()
