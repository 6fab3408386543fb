"""Console login throttling: failures per username and per client address within a window
lock that username or address for a while (billing/throttle.py), whether or not the username
exists; a successful login resets its username; a supervisor can unlock. The password is
never logged, the username only as a hash."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit, throttle
from billing.throttle import ActiveLock, Limit
from bot.console.console_models import ConsoleUser
from clinic.settings import Settings

log = logging.getLogger(__name__)
USER = "login_user:"
ADDRESS = "login_address:"
KINDS = (USER, ADDRESS)


class LoginThrottled(Exception):
    """Too many failed logins for this username or from this address: wait until `until`."""

    def __init__(self, until: datetime):
        super().__init__(f"login locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class LoginLimits:
    user: Limit
    address: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            user=Limit.minutes(settings.login_max_failures_user, settings.login_window_minutes,
                               settings.login_lock_minutes),
            address=Limit.minutes(settings.login_max_failures_address,
                                  settings.login_window_minutes, settings.login_lock_minutes),
        )


def _username(username: str) -> str:
    return (username or "").strip().lower()[:80]


def user_ref(username: str) -> str:
    """What the logs say about a username (a password typed into it never reaches them)."""
    return hashlib.sha256(_username(username).encode()).hexdigest()[:12]


def check(session: Session, username: str, client_ref: str, now: datetime) -> None:
    """Raise LoginThrottled when this username or address may not try now."""
    for key in (USER + _username(username), ADDRESS + client_ref):
        until = throttle.locked_until(session, key, now)
        if until is not None:
            raise LoginThrottled(until)


def count_failure(session: Session, username: str, client_ref: str, limits: LoginLimits,
                  now: datetime) -> datetime | None:
    """Count a failed login; the end of the lock when this failure placed one."""
    placed = None
    for kind, key, limit in ((USER, USER + _username(username), limits.user),
                             (ADDRESS, ADDRESS + client_ref, limits.address)):
        try:
            hit = throttle.hit(session, key, limit, now)
        except throttle.Throttled as exc:
            placed = placed or exc.until
            continue
        if hit.just_locked:
            placed = hit.locked_until
            audit.record(session, "console", "console_login_locked", None, at=now,
                         kind=kind.rstrip(":"), user=_user_id(session, username),
                         failures=hit.count)
            log.warning("console login locked", extra={"kind": kind.rstrip(":"),
                                                       "user_ref": user_ref(username)})
    return placed


def succeeded(session: Session, username: str) -> None:
    """Reset the user's failed-login count after a good login (the address's count is kept)."""
    throttle.clear(session, USER + _username(username))


def locked_logins(session: Session, now: datetime) -> list[ActiveLock]:
    """Console logins locked now, by user name or by client address, for the locks page."""
    return [lock for kind in KINDS for lock in throttle.active_locks(session, kind, now)]


def unlock(session: Session, key: str, *, actor: str, now: datetime) -> bool:
    """A supervisor lifts a login lock (a username's or an address's); audited."""
    if not key.startswith(KINDS) or not throttle.clear(session, key):
        return False
    kind, _, name = key.partition(":")
    audit.record(session, actor, "unlock_console_login", None, at=now, kind=kind,
                 user=_user_id(session, name) if kind == "login_user" else None)
    return True


def _user_id(session: Session, username: str) -> int | None:
    return session.scalar(select(ConsoleUser.id).where(
        ConsoleUser.username == _username(username)))
