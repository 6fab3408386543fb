"""The Telegram channel: the webhook's secret token check, an Update turned into an
InboundMessage (private chats only), sending through TelegramSender, polling mode for local
use, and STOP / START for reminders in a chat."""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging

from telegram import Update
from telegram.error import NetworkError, TelegramError

from billing.core.sender_key import SenderKey
from bot import message_store as store
from bot.channels.base import (
    BadChannelRequest,
    Channel,
    Control,
    Conversation,
    InboundMessage,
    RequestRefused,
    SendResult,
    Sent,
)
from bot.channels.telegram_transport import TelegramSender, make_bot, split_for_telegram
from bot.optout import Consent, classify
from clinic.settings import Settings

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 20


class BadTelegramUpdate(BadChannelRequest):
    """A webhook body that is not a Telegram update we can read (HTTP 400)."""


def secret_ok(settings: Settings, header: str | None) -> bool:
    """True only with a webhook secret configured and the same secret in the header."""
    expected = settings.telegram_webhook_secret
    if not expected or header is None:
        return False
    return hmac.compare_digest(expected.encode(), header.encode())


def inbound_from_update(update: Update) -> InboundMessage | None:
    """The patient's message in an update, or None for updates that carry none
    (edits, membership changes) and for chats that are not one-to-one."""
    msg = update.message
    if msg is None or msg.chat is None or msg.chat.type != "private":
        return None
    chat_id, update_id, text = msg.chat.id, update.update_id, msg.text
    if not _is_int(chat_id) or not _is_int(update_id) or not isinstance(text, str | None):
        raise BadTelegramUpdate("chat.id and update_id must be integers, text a string")
    return InboundMessage(channel="telegram", channel_user=str(chat_id),
                          text=text or "", external_id=str(update_id))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_update(body: object) -> Update:
    """A Telegram update from the webhook's JSON; BadTelegramUpdate for anything else (the
    library's de_json trusts its input's shape and fails in many ways on other JSON)."""
    if not isinstance(body, dict) or not _is_int(body.get("update_id")):
        raise BadTelegramUpdate("not a Telegram update")
    try:
        update = Update.de_json(body, None)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError,
            TelegramError):  # OverflowError, OSError: timestamps past what time_t holds
        raise BadTelegramUpdate("not a Telegram update") from None
    if update is None:
        raise BadTelegramUpdate("not a Telegram update")
    return update


async def accept_update(pipeline, update: Update) -> bool:
    """Store an update's message and schedule it; False when there was none or it was
    seen before."""
    inbound = inbound_from_update(update)
    if inbound is None:
        return False
    if await pipeline.accept(inbound) is None:
        return False
    pipeline.schedule(inbound.sender_key)
    return True


async def poll(bot, pipeline, stop: asyncio.Event) -> None:
    """Long-poll getUpdates (local use, no public URL needed) into the same pipeline."""
    await bot.delete_webhook()
    offset = None
    while not stop.is_set():
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=["message"]
            )
        except NetworkError:
            await asyncio.sleep(2)
            continue
        except TelegramError:
            log.warning("telegram polling error")
            await asyncio.sleep(5)
            continue
        for update in updates:
            try:
                await accept_update(pipeline, update)
            except BadTelegramUpdate:
                log.warning("telegram update skipped: unreadable")
            offset = update.update_id + 1


class ReminderSwitch(Control):
    """Telegram reminders end with "Reply STOP to opt out": STOP (and the other opt-out
    words) stops reminders in this chat, START resumes them. The patient can still ask
    the assistant anything; only reminders, which we send unasked, stop."""

    async def check(self, message, conversation: Conversation) -> object | None:
        consent = classify(message.text)  # a bare "yes" stays an answer to the assistant
        return consent if consent in (Consent.OPT_OUT, Consent.OPT_IN) else None

    async def handle(self, message, found, conversation: Conversation) -> Sent | None:
        opt_out = found is Consent.OPT_OUT
        chat_id = SenderKey.parse(message.sender_key).user
        was_out = await conversation.db(store.set_telegram_reminders, chat_id, opt_out,
                                        conversation.clock.now())
        if not opt_out and not was_out:
            return None  # "start" in a chat never opted out: the assistant greets
        await conversation.finish(message, "opt_out" if opt_out else "opt_in")
        replies = conversation.replies
        text = replies.telegram_opted_out() if opt_out else replies.telegram_opted_in()
        return await conversation.deliver(message.sender_key, [text], reply_to=message.id)


class TelegramChannel(Channel):
    """One-to-one chats with the clinic's bot."""

    name = "telegram"
    controls = (ReminderSwitch(),)

    def __init__(self, settings: Settings, transport: TelegramSender | None = None, *,
                 polling: bool = False):
        self.settings = settings
        self.transport = transport or TelegramSender(make_bot(settings))
        self.polling = polling

    def authenticate(self, secret_header: str | None) -> None:
        """Raise RequestRefused unless the header carries our webhook secret."""
        if not secret_ok(self.settings, secret_header):
            raise RequestRefused("bad or missing Telegram secret token")

    def parse(self, body: object) -> InboundMessage | None:
        """The message in a webhook body; None for updates without one (see
        inbound_from_update); BadTelegramUpdate when the body is no update at all."""
        return inbound_from_update(parse_update(body))

    def split(self, text: str) -> list[str]:
        return split_for_telegram(text)

    async def send(self, user: str, text: str) -> SendResult:
        return await self.transport.send(user, text)

    def background(self, conversation, stop: asyncio.Event) -> list:
        return [poll(self.transport.bot, conversation, stop)] if self.polling else []

    async def start(self) -> None:
        """Point Telegram at our webhook with the secret token (unless polling); a failure
        is logged, not fatal: polling or a later restart can still receive."""
        if self.polling or not self.settings.telegram_webhook_secret:
            return
        try:
            await self.transport.start()
            await self.transport.bot.set_webhook(
                url=self.settings.public_base_url.rstrip("/") + "/webhooks/telegram",
                secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=["message"],
            )
        except TelegramError:
            log.warning("could not set the telegram webhook")

    async def aclose(self) -> None:
        # Shutting down: a failed goodbye to the Bot API changes nothing.
        with contextlib.suppress(Exception):
            await self.transport.stop()
