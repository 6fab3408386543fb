"""Tell the representatives' Telegram group about new escalations, from the gateway only.

Escalations are created by the action server, the gateway's pipeline and the console; each
gateway worker looks for queued ones not yet announced and claims each with a conditional
UPDATE of escalations.notified_at, so however many workers run, one posts it. The notice
names the escalation, its reason and priority: never the patient, their number or words.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from billing.core.clock import Clock
from billing.escalations import service as escalations
from billing.languages import service as languages
from billing.languages.enums import DEFAULT as DEFAULT_LANGUAGE
from billing.languages.enums import NAMES as LANGUAGE_NAMES
from bot.channels.base import SendResult

log = logging.getLogger(__name__)

NOTIFY_INTERVAL_S = 10.0
# Older escalations are not announced (e.g. those queued before notices were turned on).
MAX_AGE = timedelta(hours=24)
BATCH = 20
_CHAT_ID = re.compile(r"^-?\d{1,20}$")


@dataclass(frozen=True)
class NewEscalation:
    id: int
    reason: str
    priority: int
    lang: str = DEFAULT_LANGUAGE  # the conversation's language


def notice_text(esc: NewEscalation) -> str:
    """The one-line staff alert for a new escalation: its number, reason and priority, and
    the patient's language when it is not English (so a Spanish speaker takes it)."""
    text = f"New escalation #{esc.id} ({esc.reason}, priority {esc.priority})"
    if esc.lang != DEFAULT_LANGUAGE:
        text += f"; the patient writes in {LANGUAGE_NAMES.get(esc.lang, esc.lang)}"
    return text


def valid_chat_id(chat_id: str) -> bool:
    """A Telegram chat id: an integer (groups are negative)."""
    return bool(_CHAT_ID.match(chat_id))


def claim_new(engine: Engine, now: datetime, limit: int = BATCH) -> list[NewEscalation]:
    """Claim queued escalations never announced (oldest first): notified_at is set only
    where it is still empty, so a row another worker claimed first is skipped."""
    claimed: list[NewEscalation] = []
    with Session(engine) as s, s.begin():
        found = escalations.unannounced(session=s, since=now - MAX_AGE, limit=limit)
        langs = languages.conversation_languages(s, [e.sender_key for e in found])
        candidates = [(e.id, e.reason, e.priority, langs[e.sender_key]) for e in found]
    for esc_id, reason, priority, lang in candidates:
        with Session(engine) as s, s.begin():
            won = escalations.claim_notice(session=s, escalation_id=esc_id, now=now)
        if won:
            claimed.append(NewEscalation(esc_id, reason, priority, lang))
    return claimed


def release(engine: Engine, escalation_id: int) -> None:
    """Give a claim back after the post failed, so the next pass tries again."""
    with Session(engine) as s, s.begin():
        escalations.release_notice(session=s, escalation_id=escalation_id)


class EscalationNotifier:
    """Posts notices through the gateway's TelegramSender to one chat."""

    def __init__(self, engine: Engine, sender, chat_id: str, clock: Clock | None = None):
        self.engine, self.sender, self.chat_id = engine, sender, chat_id
        self.clock = clock or Clock()

    async def notify_once(self) -> int:
        """One pass: post each newly claimed escalation; the number posted."""
        claimed = await to_thread.run_sync(claim_new, self.engine, self.clock.now())
        posted = 0
        for esc in claimed:
            try:
                result = await self.sender.send(self.chat_id, notice_text(esc))
            except Exception:  # never leave a claim without a post
                log.exception("escalation notice failed", extra={"escalation_id": esc.id})
                result = SendResult("failed", error_code="exception")
            if result.status in ("sent", "delivered"):
                posted += 1
                log.info("escalation notice posted", extra={"escalation_id": esc.id})
            else:
                await to_thread.run_sync(release, self.engine, esc.id)
                log.warning("escalation notice failed; retried next pass",
                            extra={"escalation_id": esc.id, "error_code": result.error_code})
        return posted

    async def run_forever(self, interval_s: float = NOTIFY_INTERVAL_S) -> None:
        while True:
            try:
                await self.notify_once()
            except Exception:  # a database or network hiccup: the next pass tries again
                log.exception("escalation notices failed")
            await asyncio.sleep(interval_s)


def make_notifier(settings, engine: Engine, telegram_sender, clock: Clock | None = None
                  ) -> EscalationNotifier | None:
    """The notifier when REPRESENTATIVES_TELEGRAM_CHAT_ID is set (and usable), else None."""
    chat_id = settings.representatives_telegram_chat_id.strip()
    if not chat_id:
        return None
    if telegram_sender is None:
        log.warning("REPRESENTATIVES_TELEGRAM_CHAT_ID is set but TELEGRAM_BOT_TOKEN is not: "
                    "no escalation notices")
        return None
    if not valid_chat_id(chat_id):
        log.warning("REPRESENTATIVES_TELEGRAM_CHAT_ID is not a Telegram chat id (an integer): "
                    "no escalation notices")
        return None
    return EscalationNotifier(engine, telegram_sender, chat_id, clock)
