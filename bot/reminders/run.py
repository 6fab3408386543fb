"""One reminder run: select the accounts past due, decide about each, write the outbox, then
send what is due, rate-limited per sending number, and record what the channel said.

`billbot remind` runs it once; `billbot serve` schedules it (run_reminders below).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from billing import audit
from billing.core.sender_key import SenderKey, sender_key
from billing.db.models import Patient
from bot import email_consent, message_store
from bot.channels.base import SendResult
from bot.channels.email import is_bounce
from bot.channels.registry import Channels, build_channels
from bot.reminders import outbox
from bot.reminders.outbox import Planned
from bot.reminders.policy import (
    DEFER,
    FAIL,
    OPTED_OUT,
    RETRY,
    SEND,
    UNKNOWN,
    Decision,
    ReminderConfig,
    allowed_now,
    decide,
    failure_outcome,
    next_allowed,
    reminder_text,
    window_for,
    zone,
)
from bot.reminders.select import find_candidates
from bot.segments import segment_count
from bot.statements.notices import email_reminder_text
from clinic import wording

log = logging.getLogger(__name__)
ACTOR = "reminders"


class ReminderSender(Protocol):
    """Sends one text on a channel ('sms' to an E.164 number, 'telegram' to a chat id)."""

    def send(self, channel: str, address: str, text: str) -> SendResult: ...

    def rate_key(self, channel: str) -> str | None:
        """The sending identity whose rate is limited (an SMS from-number), or None."""
        ...


class ChannelSenders:
    """The gateway's channels (bot.channels) behind the ReminderSender protocol: a reminder
    run is synchronous, so each send runs the channel's coroutine on one event loop kept
    for the run (a Telegram client stays bound to the loop it started on)."""

    def __init__(self, channels: Channels):
        self.channels = channels
        self._runner: asyncio.Runner | None = None

    @classmethod
    def from_settings(cls, settings) -> ChannelSenders:
        """The channels the settings configure, built as the gateway builds them."""
        return cls(build_channels(settings))

    def can_send(self, channel: str) -> bool:
        return channel in self.channels

    def rate_key(self, channel: str) -> str | None:
        found = self.channels.get(channel)
        return found.rate_key if found is not None else None

    def send(self, channel: str, address: str, text: str) -> SendResult:
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(self.channels[channel].send(address, text))

    def close(self) -> None:
        if self._runner is not None:
            self._runner.run(self.channels.aclose())
            self._runner.close()
            self._runner = None


class RateLimiter:
    """At most `per_second` segments a second per key, spaced evenly (no bursts): wait()
    until the key is free before a request, spend() its segments once the answer is in.
    Counting from the answer means two requests never reach Twilio closer together than
    the interval, whatever the network or a slow commit did to the one before; the price is
    the API's latency added to each interval."""

    def __init__(self, per_second: float, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / per_second
        self.monotonic, self.sleep = monotonic, sleep
        self._next: dict[str, float] = {}

    def wait(self, key: str) -> None:
        delay = self._next.get(key, 0.0) - self.monotonic()
        if delay > 0:
            self.sleep(delay)

    def spend(self, key: str, segments: int = 1) -> None:
        self._next[key] = self.monotonic() + segments * self.interval


@dataclass
class RunReport:
    now: datetime
    dry_run: bool
    decisions: list[Decision] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)  # send / defer / skip
    reasons: Counter = field(default_factory=Counter)  # skip and defer reasons
    flagged: int = 0  # accounts newly flagged for review
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    unknown: int = 0  # outcome not known: never resent
    cancelled: int = 0
    orphaned: int = 0  # 'sending' rows of a run that died, now 'unknown'
    no_channel_sender: int = 0  # due, but that channel is not configured: left pending

    @property
    def candidates(self) -> int:
        return sum(self.actions.values())


def _address(patient: tuple, channel: str) -> str | None:
    phone, chat, email = patient
    if channel == "sms":
        return phone
    if channel == "email":
        return email
    return str(chat) if chat is not None else None


def _addresses(session: Session, ids: list[int]) -> dict[int, tuple]:
    found: dict[int, tuple] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for pid, phone, chat, email in session.execute(
            select(Patient.id, Patient.phone, Patient.telegram_chat_id, Patient.email)
            .where(Patient.id.in_(chunk))
        ):
            found[pid] = (phone, chat, email)
    return found


def run_reminders(settings, engine: Engine, now: datetime, dry_run: bool = False,
                  sender: ReminderSender | None = None, *, config: ReminderConfig | None = None,
                  limit: int | None = None, keep_decisions: bool = True,
                  monotonic: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> RunReport:
    """Run once at `now` (aware). dry_run decides and reports without writing or sending.
    `limit` caps the sends of this run. Without `sender`, the gateway's senders are built
    from the settings (and closed again)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    config = config or ReminderConfig.from_settings(settings)
    # Each step in each language billbot writes: a reminder is in the patient's language.
    texts = {(step, lang): reminder_text(step, settings.clinic_name, settings.payment_link, lang)
             for step in config.cadence_days for lang in wording.languages()}
    report = RunReport(now=now, dry_run=dry_run)
    pending_by_patient: dict[int, list[tuple[int, int]]] = {}
    if not dry_run:
        with Session(engine) as s, s.begin():
            report.orphaned = outbox.orphan_stale_claims(s, now, config.stale_claim)
            for row_id, pid, step, episode in outbox.pending_rows(s):
                pending_by_patient.setdefault(pid, []).append((row_id, step, episode))
    planned: list[Decision] = []
    flagged: list[int] = []
    where: dict[int, tuple[str | None, str | None]] = {}
    seen_pending: dict[int, Decision] = {}
    for cand in find_candidates(engine, now):
        d = decide(cand, now, config)
        report.actions[d.action] += 1
        if d.action != SEND:
            report.reasons[d.reason] += 1
        if keep_decisions:
            report.decisions.append(d)
        if d.flag_review:
            flagged.append(d.patient_id)
        if d.action in (SEND, DEFER):
            planned.append(d)
            where[d.patient_id] = (cand.timezone, cand.state)
        if cand.patient_id in pending_by_patient:
            seen_pending[cand.patient_id] = d
    report.flagged = len(flagged)
    if dry_run:
        return report
    def email_text(patient_id: int, lang: str) -> str:
        return email_reminder_text(settings, patient_id, now, lang)

    with Session(engine) as s, s.begin():
        _write(s, planned, texts, pending_by_patient, seen_pending, flagged, report, now,
               email_text)
    own = sender is None
    if own:
        sender = ChannelSenders.from_settings(settings)
    try:
        _dispatch(engine, sender, now, where, config, limit, report, monotonic, sleep)
    finally:
        if own:
            sender.close()
    return report


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _languages(s: Session, patient_ids: list[int]) -> dict[int, str]:
    """Each patient's stored language (a language without a catalogue reads as English)."""
    found: dict[int, str] = {}
    ids = sorted(set(patient_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for pid, lang in s.execute(select(Patient.id, Patient.language)
                                   .where(Patient.id.in_(chunk))):
            found[pid] = lang if lang in wording.languages() else wording.DEFAULT_LANG
    return found


def _write(s: Session, planned: list[Decision], texts: dict[tuple[int, str], str],
           pending_by_patient: dict, seen_pending: dict, flagged: list[int],
           report: RunReport, now: datetime, email_text: Callable[[int, str], str]) -> None:
    addresses = _addresses(s, [d.patient_id for d in planned])
    langs = _languages(s, [d.patient_id for d in planned])
    rows = []
    for d in planned:
        address = _address(addresses[d.patient_id], d.channel)
        # The gateway's sender key ('sms:+1555...', 'tg:4242'): the reminder is on the same
        # transcript as the patient's replies.
        key = sender_key(d.channel, address)
        lang = langs.get(d.patient_id, wording.DEFAULT_LANG)
        body = email_text(d.patient_id, lang) if d.channel == "email" else texts[d.step, lang]
        rows.append(Planned(d.patient_id, d.step, d.channel, key,
                            body, d.not_before, d.reason, episode=d.episode))
    outbox.write_planned(s, rows, now)
    # Pending rows from earlier runs that are no longer what this run would send.
    for pid, pend in pending_by_patient.items():
        d = seen_pending.get(pid)
        for row_id, step, episode in pend:
            if d is None:
                why = "no longer past due"
            elif d.action not in (SEND, DEFER):
                why = d.reason
            elif d.step != step or d.episode != _as_date(episode):
                why = f"superseded by step {d.step}"
            else:
                continue
            outbox.cancel(s, row_id, why, now)
            report.cancelled += 1
    for i in range(0, len(flagged), 500):
        chunk = flagged[i:i + 500]
        s.execute(update(Patient).where(Patient.id.in_(chunk)).values(needs_review=True))
        for pid in chunk:
            audit.record(s, ACTOR, "flag_for_review", pid, at=now, reason="aged balance")


def _dispatch(engine: Engine, sender: ReminderSender, now: datetime, where: dict,
              config: ReminderConfig, limit: int | None, report: RunReport,
              monotonic, sleep) -> None:
    limiter = RateLimiter(config.segments_per_second, monotonic, sleep)
    started = monotonic()
    with Session(engine) as s:
        with s.begin():
            rows = outbox.due_rows(s, now, limit)
        for row in rows:
            t = now + timedelta(seconds=monotonic() - started)
            tz_name, state = where.get(row.patient_id, (None, None))
            if tz_name is None:
                continue  # not decided as due in this run
            can = getattr(sender, "can_send", None)
            if can is not None and not can(row.channel):
                report.no_channel_sender += 1
                continue
            key = sender.rate_key(row.channel)
            if key is not None:
                limiter.wait(key)
                t = now + timedelta(seconds=monotonic() - started)
            if not allowed_now(t, tz_name, state, config):
                later = next_allowed(t, zone(tz_name), window_for(config, state))
                with s.begin():
                    outbox.postpone(s, row.id, later, "quiet hours", t)
                continue
            with s.begin():
                if not outbox.claim(s, row, t):
                    continue  # another run has it
            address = SenderKey.parse(row.sender_key).user
            result = sender.send(row.channel, address, row.body)
            if key is not None:
                limiter.spend(key, segment_count(row.body))
            with s.begin():
                outcome = _record(s, row, result, t, config, report)
            if outcome == OPTED_OUT and row.channel == "sms":
                # The gateway's consent record (and Patient.sms_opted_out_at on that number).
                message_store.record_opt_out(engine, address, "twilio_21610", t)
            if row.channel == "email" and is_bounce(result.error_code):
                email_consent.record_failing(engine, address, result.error_code, t)


def _record(s: Session, row, result: SendResult, t: datetime, config: ReminderConfig,
            report: RunReport) -> str:
    if result.status in ("sent", "delivered", "queued"):
        outbox.mark_sent(s, row, result.external_id, t, status=result.status)
        report.sent += 1
        return "sent"
    code = result.error_code or "unknown"
    outcome = OPTED_OUT if result.opted_out else failure_outcome(code)
    log.info("reminder not sent", extra={"outbox_id": row.id, "error_code": code,
                                         "outcome": outcome})
    if outcome == RETRY and row.attempts + 1 < config.max_attempts:
        backoff = config.retry_backoff[min(row.attempts, len(config.retry_backoff) - 1)]
        outbox.mark_retry(s, row, code, t + backoff, t)
        report.retrying += 1
        return outcome
    if outcome == UNKNOWN:
        outbox.mark_unknown(s, row, code, "may have been sent: not retried", t)
        report.unknown += 1
        return outcome
    reason = {OPTED_OUT: "number opted out", FAIL: "refused by the channel"}.get(
        outcome, "gave up after retries")
    outbox.mark_failed(s, row, code, reason, t)
    report.failed += 1
    return outcome
