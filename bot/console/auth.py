"""Console users and their sessions: argon2 password hashes, server-side sessions behind an
opaque cookie token, and the per-session CSRF token every form carries. No I/O but the session."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.console.console_models import ROLES, ConsoleSession, ConsoleUser

SESSION_TTL = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(ValueError):
    """A console user that cannot be created as asked."""


class InvalidLogin(Exception):
    """Unknown user, wrong password or deactivated user (deliberately not told apart)."""


@dataclass(frozen=True)
class Identity:
    """Who is logged in on a request, with the CSRF token their forms must send back."""

    user_id: int
    username: str
    role: str
    csrf_token: str

    @property
    def actor(self) -> str:
        return f"rep:{self.username}"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, username: str, password: str, role: str) -> ConsoleUser:
    """Create a console user with an Argon2-hashed password;
    raise UserError on a bad name, role or password."""
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        raise UserError("a username is 2-40 characters: letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserError(f"role must be one of: {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalars(select(ConsoleUser.id).where(ConsoleUser.username == username)).first():
        raise UserError(f"user {username!r} already exists")
    user = ConsoleUser(username=username, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise UserError(f"user {username!r} already exists") from None
    return user


def check_password(session: Session, username: str, password: str) -> ConsoleUser:
    """Return the active user whose password matches; raise
    InvalidLogin otherwise (same cost for unknown names)."""
    user = session.scalars(
        select(ConsoleUser).where(ConsoleUser.username == (username or "").strip().lower())
    ).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        raise InvalidLogin() from None
    if user is None or not user.active:
        raise InvalidLogin()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def log_in(session: Session, username: str, password: str, now: datetime) -> str:
    """Check the password and open a session; returns the cookie token (shown only once)."""
    user = check_password(session, username, password)
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    session.flush()
    return token


def identify(session: Session, token: str | None, now: datetime) -> Identity | None:
    """The logged-in user behind a cookie token, or None (unknown, expired, deactivated)."""
    if not token:
        return None
    row = session.execute(
        select(ConsoleSession, ConsoleUser)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    sess, user = row
    if sess.expires_at <= now or not user.active:
        return None
    return Identity(user.id, user.username, user.role, sess.csrf_token)


def log_out(session: Session, token: str | None) -> None:
    """End the console session whose cookie token is given; nothing happens without a token."""
    if token:
        session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))


def csrf_ok(expected: str | None, submitted: str | None) -> bool:
    """True when a CSRF token was expected and the
    submitted one matches, compared in constant time."""
    return bool(expected) and bool(submitted) and hmac.compare_digest(expected, submitted)
