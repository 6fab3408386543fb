"""The rules of overdue-balance reminders, as plain functions over dataclasses (no I/O):
which cadence step is due, quiet hours in the patient's zone, the frequency cap, the review
flag, who may be reminded on which channel, and the wording of each step."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.segments import segment_count
from clinic import wording

DEFAULT_CADENCE = (1, 15, 30, 60, 90)
DEFAULT_WINDOW = (time(8, 0), time(21, 0))  # TCPA: 8 a.m. to 9 p.m. at the called party's location
# State laws stricter than the TCPA (telephone-solicitation acts of Florida 2021, Oklahoma 2022,
# Maryland 2023: 8 a.m. to 8 p.m.). Configurable: see ReminderConfig.from_settings.
DEFAULT_STATE_WINDOWS: dict[str, tuple[time, time]] = {
    "FL": (time(8, 0), time(20, 0)),
    "OK": (time(8, 0), time(20, 0)),
    "MD": (time(8, 0), time(20, 0)),
}


class ReminderConfigError(ValueError):
    """A reminder setting that cannot be used (bad cadence, window or wording)."""


@dataclass(frozen=True)
class ReminderConfig:
    cadence_days: tuple[int, ...] = DEFAULT_CADENCE
    window: tuple[time, time] = DEFAULT_WINDOW
    state_windows: dict[str, tuple[time, time]] = field(
        default_factory=lambda: dict(DEFAULT_STATE_WINDOWS)
    )
    cap_days: int = 7  # at most one reminder per this many days
    review_age_days: int = 120  # flag the account for a representative; never refer it
    segments_per_second: float = 1.0  # per sending number: US long code 1, toll-free/short code more
    max_attempts: int = 4  # sends tried for one reminder when errors say a retry is safe
    retry_backoff: tuple[timedelta, ...] = (
        timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
    )
    stale_claim: timedelta = timedelta(minutes=10)  # a 'sending' row older than this is orphaned
    payment_window_days: int = 14  # report: payments within this many days of a reminder

    def __post_init__(self) -> None:
        steps = self.cadence_days
        if not steps or any(d < 1 for d in steps) or list(steps) != sorted(set(steps)):
            raise ReminderConfigError("cadence must be increasing whole days, each 1 or more")
        for name, (start, end) in [("default", self.window), *self.state_windows.items()]:
            if not start < end:
                raise ReminderConfigError(f"quiet-hours window for {name} must start before it ends")
        if self.cap_days < 0 or self.review_age_days < 1 or self.segments_per_second <= 0:
            raise ReminderConfigError("cap, review age and send rate must be positive")

    @classmethod
    def from_settings(cls, settings) -> ReminderConfig:
        """Read the optional reminder_* settings (strings as in the environment), e.g.
        REMINDER_CADENCE_DAYS=1,15,30,60,90  REMINDER_QUIET_HOURS=08:00-21:00
        REMINDER_STATE_QUIET_HOURS=FL=08:00-20:00,TX=09:00-21:00  REMINDER_CAP_DAYS=7
        REMINDER_REVIEW_AGE_DAYS=120  REMINDER_SEGMENTS_PER_SECOND=1"""
        values: dict = {}
        raw = _setting(settings, "reminder_cadence_days")
        if raw:
            values["cadence_days"] = tuple(_int(p, "cadence") for p in raw.split(","))
        raw = _setting(settings, "reminder_quiet_hours")
        if raw:
            values["window"] = parse_window(raw)
        raw = _setting(settings, "reminder_state_quiet_hours")
        if raw:
            windows = dict(DEFAULT_STATE_WINDOWS)
            for part in raw.split(","):
                state, _, span = part.partition("=")
                if len(state.strip()) != 2 or not span:
                    raise ReminderConfigError(f"state window {part!r}: write it as FL=08:00-20:00")
                windows[state.strip().upper()] = parse_window(span)
            values["state_windows"] = windows
        for name, conv in (("cap_days", int), ("review_age_days", int),
                           ("segments_per_second", float)):
            raw = _setting(settings, f"reminder_{name}")
            if raw:
                try:
                    values[name] = conv(raw)
                except ValueError:
                    raise ReminderConfigError(f"reminder_{name}: not a number: {raw!r}") from None
        return cls(**values)


def _setting(settings, name: str) -> str:
    value = getattr(settings, name, None)
    return "" if value is None else str(value).strip()


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ReminderConfigError(f"{what}: not a whole number: {text!r}") from None


def parse_window(text: str) -> tuple[time, time]:
    """'08:00-21:00' -> (08:00, 21:00)."""
    try:
        start, end = (time.fromisoformat(p.strip()) for p in text.split("-"))
    except ValueError:
        raise ReminderConfigError(f"quiet-hours window {text!r}: write it as 08:00-21:00") from None
    return start, end


# ---- time ---------------------------------------------------------------------------------

def window_for(config: ReminderConfig, state: str | None) -> tuple[time, time]:
    """The daily sending window (start, end) for the patient's state, else the default window."""
    return config.state_windows.get((state or "").upper(), config.window)


def zone(name: str | None) -> ZoneInfo | None:
    """The time zone with this name, or None when the name is empty or unknown."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def next_allowed(at: datetime, tz: ZoneInfo, window: tuple[time, time]) -> datetime:
    """The first instant at or after `at` (aware) that lies inside the local window [start, end).

    Local wall-clock times are built with zoneinfo, so a window start on a daylight-saving
    day is that day's 08:00 local, whatever the UTC offset that day.
    """
    start, end = window
    local = at.astimezone(tz)
    if start <= local.time() < end:
        return at
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz).astimezone(at.tzinfo)


def due_step(days_past_due: int, cadence: tuple[int, ...]) -> int | None:
    """The latest cadence step reached: 45 days past due with (1, 15, 30, 60) -> 30."""
    reached = [d for d in cadence if d <= days_past_due]
    return reached[-1] if reached else None


# ---- decisions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One account with an amount past due, as select.py finds it (no names, no amounts)."""

    patient_id: int
    account_number: str
    preferred_channel: str
    has_phone: bool
    sms_consent: bool
    sms_opted_out: bool  # Patient.sms_opted_out_at set, or the number is in sms_opt_outs
    telegram_linked: bool
    timezone: str | None
    state: str | None
    open_dispute: bool
    active_plan: bool
    needs_review: bool
    oldest_due: date  # due date of the oldest amount still unpaid (credits pay oldest first)
    reminded_step: int | None = None  # highest step already in the outbox (any outcome)
    telegram_opted_out: bool = False  # STOP sent in the linked Telegram chat
    last_contact_at: datetime | None = None  # last reminder sent (or possibly sent)
    has_email: bool = False
    email_consent: bool = False
    email_opted_out: bool = False  # unsubscribed (one-click or the page)
    email_failing: bool = False  # the relay bounced the address


SEND, DEFER, SKIP = "send", "defer", "skip"


@dataclass(frozen=True)
class Decision:
    patient_id: int
    account_number: str
    action: str  # send | defer | skip
    reason: str  # why, in a few words (no patient data)
    step: int | None = None
    channel: str | None = None
    days_past_due: int | None = None
    not_before: datetime | None = None  # when it may go out (send: now)
    local_time: datetime | None = None  # not_before in the patient's zone
    flag_review: bool = False  # set Patient.needs_review now
    episode: date | None = None  # the oldest unpaid amount's due date (the outbox key)


def choose_channel(c: Candidate) -> tuple[str | None, str]:
    """The channel to use and, when there is none, why. The preferred channel only: a patient
    who chose Telegram is not texted instead. Web chat cannot be pushed to, so a web-chat
    patient is reached by SMS or Telegram where they have agreed to it; so is an email
    patient whose email cannot be used (unsubscribed, bouncing), as before email was a
    channel."""
    email_reason = email_blocker(c)
    if c.preferred_channel == "email" and email_reason is None:
        return "email", ""
    pref = c.preferred_channel if c.preferred_channel in ("sms", "telegram") else None
    sms_reason = _sms_blocker(c)
    if pref == "sms":
        return (None, sms_reason) if sms_reason else ("sms", "")
    telegram_reason = _telegram_blocker(c)
    if pref == "telegram":
        return (None, telegram_reason) if telegram_reason else ("telegram", "")
    if sms_reason is None:
        return "sms", ""
    if telegram_reason is None:
        return "telegram", ""
    if c.preferred_channel == "email" and email_reason is not None:
        return None, email_reason
    return None, sms_reason


def email_blocker(c: Candidate) -> str | None:
    """Why this patient cannot be emailed, or None."""
    if not c.has_email:
        return "no email address"
    if c.email_opted_out:
        return "unsubscribed from email"
    if c.email_failing:
        return "email address failing (bounced)"
    if not c.email_consent:
        return "no email consent"
    return None


def _telegram_blocker(c: Candidate) -> str | None:
    if not c.telegram_linked:
        return "no Telegram chat linked"
    if c.telegram_opted_out:
        return "opted out of Telegram reminders (STOP)"
    return None


def _sms_blocker(c: Candidate) -> str | None:
    if c.sms_opted_out:
        return "opted out (STOP)"
    if not c.has_phone:
        return "no phone number"
    if not c.sms_consent:
        return "no SMS consent"
    return None


def decide(c: Candidate, now: datetime, config: ReminderConfig) -> Decision:
    """What to do about one account at `now` (aware). Order: not yet due, dispute, plan,
    channel and consent, step already reminded, then the frequency cap and quiet hours, which
    defer (never drop) the reminder to the next instant both allow."""
    base = {"patient_id": c.patient_id, "account_number": c.account_number,
            "episode": c.oldest_due}
    tz = zone(c.timezone)
    if tz is None:
        return Decision(**base, action=SKIP, reason="unknown time zone")
    local_today = now.astimezone(tz).date()
    days = (local_today - c.oldest_due).days
    base["days_past_due"] = days
    if days < 1:
        return Decision(**base, action=SKIP, reason="not yet past due")
    if c.open_dispute:
        return Decision(**base, action=SKIP, reason="open dispute")
    if c.active_plan:
        return Decision(**base, action=SKIP, reason="on a payment plan")
    # Aged accounts are flagged for a representative, never referred automatically.
    base["flag_review"] = days >= config.review_age_days and not c.needs_review
    channel, why = choose_channel(c)
    if channel is None:
        return Decision(**base, action=SKIP, reason=why)
    step = due_step(days, config.cadence_days)
    base.update(step=step, channel=channel)
    if step is None:
        return Decision(**base, action=SKIP, reason="no cadence step yet")
    if c.reminded_step is not None and c.reminded_step >= step:
        return Decision(**base, action=SKIP, reason=f"step {c.reminded_step} already reminded")
    earliest, reason = now, "due"
    if c.last_contact_at is not None:
        cap_end = c.last_contact_at + timedelta(days=config.cap_days)
        if cap_end > now:
            earliest, reason = cap_end, f"frequency cap ({config.cap_days} days)"
    at = next_allowed(earliest, tz, window_for(config, c.state))
    if at > earliest and reason == "due":
        reason = "quiet hours"
    if at <= now:
        return Decision(**base, action=SEND, reason="due", not_before=now,
                        local_time=now.astimezone(tz))
    return Decision(**base, action=DEFER, reason=reason, not_before=at,
                    local_time=at.astimezone(tz))


def allowed_now(at: datetime, timezone: str | None, state: str | None,
                config: ReminderConfig) -> bool:
    """Checked again just before each send: a long rate-limited run must not drift past 21:00."""
    tz = zone(timezone)
    return tz is not None and next_allowed(at, tz, window_for(config, state)) == at


# ---- wording ------------------------------------------------------------------------------

# Minimum necessary: who is writing, that there is a balance, how to see it, how to stop.
# Never an amount, a service, a diagnosis or a provider: the phone may be shared.
# The texts are the catalogue's (clinic.wording, reminder.*): each step's id, and the same id
# with ".link" for the variant with the payment link.
STEP_TEXTS: dict[int, str] = {
    1: "reminder.step_1",
    15: "reminder.step_15",
    30: "reminder.step_30",
    60: "reminder.step_60",
    90: "reminder.step_90",
}
GENERIC_TEXT = "reminder.other"
WITH_LINK = ".link"


def reminder_text(step: int, clinic_name: str, link: str = "", lang: str = "en") -> str:
    """The text of one step: one segment in the encoding it needs (English and Spanish are
    written to stay GSM-7, 160 characters). The payment link is added where it fits."""
    msg_id = STEP_TEXTS.get(step, GENERIC_TEXT)
    clinic = clinic_name.strip()
    variants = [msg_id + WITH_LINK, msg_id] if link else [msg_id]
    for variant in variants:
        if variant not in wording.messages(lang) and variant not in wording.messages():
            continue  # a step whose wording has no room for the link
        text = wording.text(variant, lang, clinic=clinic, link=link)
        if segment_count(text) == 1:
            return text
    raise ReminderConfigError(
        f"the step {step} reminder ({lang}) does not fit one SMS segment with clinic name "
        f"{clinic!r}"
    )


# ---- failed sends -------------------------------------------------------------------------

RETRY, FAIL, UNKNOWN, OPTED_OUT = "retry", "fail", "unknown", "opted_out"

# What a failed send's error says about trying again (docs/reminders.md has the table).
# Retry only where the message certainly did not go out and may go out later.
RETRYABLE = frozenset({
    "20429",  # Twilio: too many requests
    "429",  # HTTP 429 without a Twilio code
    "20500", "20503",  # Twilio internal error / service unavailable
    "30001",  # queue overflow: Twilio did not send it
    "unreachable",  # connection refused or failed before the request went out
    "network",  # Telegram: network error before an answer
    "retry_after",  # Telegram: flood limit, asks to try later
})
NOT_RETRYABLE = {
    "21610": OPTED_OUT,  # recipient unsubscribed (replied STOP): record the opt-out
    "21211": FAIL,  # invalid 'To' number
    "21214": FAIL,  # 'To' number cannot be reached
    "21408": FAIL,  # no permission to send to that region
    "21612": FAIL,  # 'To' number not reachable from this sender
    "21614": FAIL,  # 'To' number is not a mobile number
    "21606": FAIL,  # 'From' number cannot send to this destination
    "21617": FAIL,  # body too long
    "20003": FAIL,  # authentication failed: a configuration problem
    "30003": FAIL, "30004": FAIL, "30005": FAIL, "30006": FAIL, "30007": FAIL,
    "30034": FAIL,  # unreachable, blocked, unknown, landline, carrier filter, unregistered
    "forbidden": FAIL,  # Telegram: the user blocked the bot
    "bad_request": FAIL,  # Telegram: e.g. chat not found
    "timeout": UNKNOWN,  # the request may have reached the channel: never resent
    "tls": FAIL,  # SMTP: the relay's certificate did not verify, a configuration problem
}


def failure_outcome(code: str | None) -> str:
    """retry | fail | unknown | opted_out for a send that did not succeed."""
    code = (code or "").strip()
    if code in RETRYABLE or (len(code) == 3 and code.startswith("5")):  # HTTP 5xx
        return RETRY
    if code.startswith("smtp4"):  # the SMTP relay's temporary refusal (421, 450, 451, 452)
        return RETRY
    return NOT_RETRYABLE.get(code, FAIL)
