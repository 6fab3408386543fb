"""Time in one place: 'now' is passed in, so every rule is testable at any instant and zone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


class Clock:
    """The real clock. Tests pass a FixedClock instead."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, tz: str = "UTC") -> date:
        return self.now().astimezone(ZoneInfo(tz)).date()


@dataclass
class FixedClock(Clock):
    at: datetime

    def now(self) -> datetime:
        return self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)
