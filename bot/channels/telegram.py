"""Telegram adapter: the webhook's secret token check, an Update turned into an
InboundMessage (private chats only), and polling mode for local use."""
from __future__ import annotations

import asyncio
import hmac
import logging

from telegram import Update
from telegram.error import NetworkError, TelegramError

from bot.pipeline import InboundMessage, Pipeline
from clinic.settings import Settings

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 20


def secret_ok(settings: Settings, header: str | None) -> bool:
    """True only with a webhook secret configured and the same secret in the header."""
    expected = settings.telegram_webhook_secret
    if not expected or header is None:
        return False
    return hmac.compare_digest(expected.encode(), header.encode())


class BadTelegramUpdate(ValueError):
    """A webhook body that is not a Telegram update we can read (HTTP 400)."""


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


async def accept_update(pipeline: Pipeline, update: Update) -> bool:
    """Store an update's message and schedule it; False when there was none or it was
    seen before."""
    inbound = inbound_from_update(update)
    if inbound is None:
        return False
    if await pipeline.accept(inbound) is None:
        return False
    pipeline.schedule(inbound.sender_key)
    return True


async def poll(bot, pipeline: Pipeline, stop: asyncio.Event) -> None:
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
