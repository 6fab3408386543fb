"""The clinic's office hours (Settings.office_hours, in Settings.clinic_timezone): whether a
representative is in now, when the next one will be, and the sentence that tells the patient
(its words are the catalogue's: clinic.wording, office.closed and when.*).
Shared by the console, the gateway's pipeline and the dialogue's actions.

Format: one or more 'DAYS HH:MM-HH:MM' groups separated by ';' or ',', where DAYS is a day
('Sat') or a range ('Mon-Fri', wrapping allowed: 'Fri-Mon'). Example: 'Mon-Fri 08:00-17:00; Sat 09:00-12:00'.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clinic import wording

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GROUP = re.compile(
    r"^(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)


class OfficeHoursError(ValueError):
    """Settings.office_hours cannot be read."""


@dataclass(frozen=True)
class Window:
    weekday: int  # Monday is 0
    opens: time
    closes: time


def _time(h: str, m: str, raw: str) -> time:
    hour, minute = int(h), int(m)
    if hour == 24 and minute == 0:
        return time.max
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise OfficeHoursError(f"not a time of day in {raw!r}")
    return time(hour, minute)


def parse_office_hours(text: str) -> tuple[Window, ...]:
    """Opening windows from text like "Mon-Fri 08:00-17:00; Sat 09:00-12:00", in week order."""
    windows: list[Window] = []
    for raw in re.split(r"[;,]", text or ""):
        group = raw.strip().lower()
        if not group:
            continue
        m = _GROUP.match(group)
        if not m or m["d1"] not in DAYS or (m["d2"] and m["d2"] not in DAYS):
            raise OfficeHoursError(f"expected e.g. 'Mon-Fri 08:00-17:00', got {raw.strip()!r}")
        opens, closes = _time(m["h1"], m["m1"], raw), _time(m["h2"], m["m2"], raw)
        if closes <= opens:
            raise OfficeHoursError(f"closing time is not after opening time in {raw.strip()!r}")
        first = DAYS.index(m["d1"])
        last = DAYS.index(m["d2"]) if m["d2"] else first
        span = (last - first) % 7
        windows.extend(Window((first + i) % 7, opens, closes) for i in range(span + 1))
    if not windows:
        raise OfficeHoursError("office hours are empty")
    return tuple(sorted(windows, key=lambda w: (w.weekday, w.opens)))


def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)


def is_open(settings, now: datetime) -> bool:
    """True when the billing office is open at `now`, in the clinic's time zone."""
    return next_opening(settings, now) == now.astimezone(ZoneInfo(settings.clinic_timezone))


def next_opening(settings, now: datetime) -> datetime:
    """`now` (in the clinic's zone) when the office is open, else the next opening instant."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = ZoneInfo(settings.clinic_timezone)
    windows = parse_office_hours(settings.office_hours)
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for w in windows:
            if w.weekday != day.weekday():
                continue
            start, end = _at(day, w.opens, tz), _at(day, w.closes, tz)
            if start <= local < end:
                return local
            if local < start:
                return start
    raise AssertionError("a week of office hours always has an opening")  # windows is non-empty


def when_text(opening: datetime, now: datetime, lang: str = wording.DEFAULT_LANG) -> str:
    """'today at 8:00 AM', 'tomorrow at 8:00 AM' or 'on Monday at 8:00 AM' (clinic time)."""
    days = (opening.date() - now.astimezone(opening.tzinfo).date()).days
    at = {"time": wording.clock(opening, lang), "zone": opening.strftime("%Z")}
    if days == 0:
        return wording.text("when.today", lang, **at)
    if days == 1:
        return wording.text("when.tomorrow", lang, **at)
    return wording.text("when.weekday", lang, weekday=wording.weekday(opening.date(), lang), **at)


def away_sentence(settings, now: datetime) -> str | None:
    """What to tell a patient handed to a person outside office hours; None while open."""
    opening = next_opening(settings, now)
    if opening == now.astimezone(opening.tzinfo):
        return None
    return wording.text("office.closed", when=when_text(opening, now))


def away_notice(settings, now: datetime) -> str | None:
    """away_sentence for a patient's reply: None while open, and None (with a warning in the
    log) when Settings.office_hours cannot be read, so a misconfiguration never stops a
    reply; the replies still state the hours as configured."""
    try:
        return away_sentence(settings, now)
    except (OfficeHoursError, ZoneInfoNotFoundError):
        log.warning("OFFICE_HOURS or CLINIC_TIMEZONE cannot be read; no away notice")
        return None
