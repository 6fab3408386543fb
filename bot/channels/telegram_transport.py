"""Sending Telegram messages with python-telegram-bot, within Telegram's flood limits:
about one message a second per chat (spaced here), 30 a second in all and retry_after
obeyed (PTB's AIORateLimiter)."""
from __future__ import annotations

import asyncio
import logging
import time

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from bot.channels.base import SendResult
from clinic.settings import Settings

log = logging.getLogger(__name__)

TELEGRAM_MAX_CHARS = 4096
PER_CHAT_INTERVAL_S = 1.0


def make_bot(settings: Settings, max_retries: int = 3) -> ExtBot:
    """Build the Telegram client, rate-limited to Telegram's 30
    messages a second, using TELEGRAM_API_BASE_URL when set."""
    kwargs = {}
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url.rstrip("/")
        kwargs = {"base_url": base + "/bot", "base_file_url": base + "/file/bot"}
    return ExtBot(
        settings.telegram_bot_token,
        rate_limiter=AIORateLimiter(
            overall_max_rate=30, overall_time_period=1, max_retries=max_retries
        ),
        **kwargs,
    )


def split_for_telegram(text: str, limit: int = TELEGRAM_MAX_CHARS) -> list[str]:
    """Split text at spaces into chunks of at most limit
    characters, since Telegram rejects longer messages."""
    if len(text) <= limit:
        return [text]
    parts, cur = [], ""
    for word in text.split(" "):
        candidate = f"{cur} {word}" if cur else word
        if len(candidate) <= limit:
            cur = candidate
            continue
        if cur:
            parts.append(cur)
        while len(word) > limit:
            parts.append(word[:limit])
            word = word[limit:]
        cur = word
    if cur:
        parts.append(cur)
    return parts


class TelegramSender:
    def __init__(self, bot: ExtBot, per_chat_interval_s: float = PER_CHAT_INTERVAL_S):
        self.bot = bot
        self.per_chat_interval_s = per_chat_interval_s
        self._last_sent: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._started = False

    async def start(self) -> None:
        if not self._started:
            await self.bot.initialize()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.bot.shutdown()
            self._started = False

    async def send(self, chat_id: str, text: str) -> SendResult:
        await self.start()
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            wait = self._last_sent.get(chat_id, 0.0) + self.per_chat_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                msg = await self.bot.send_message(chat_id=int(chat_id), text=text)
                return SendResult("sent", external_id=f"{chat_id}:{msg.message_id}")
            except Forbidden:
                return SendResult("failed", error_code="forbidden")
            except BadRequest:
                return SendResult("failed", error_code="bad_request")
            except RetryAfter as exc:
                log.warning("telegram flood limit: giving up", extra={"retry_after": str(exc.retry_after)})
                return SendResult("failed", error_code="retry_after")
            except NetworkError:
                return SendResult("failed", error_code="network")
            except TelegramError:
                return SendResult("failed", error_code="telegram_error")
            finally:
                self._last_sent[chat_id] = time.monotonic()
