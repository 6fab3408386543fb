"""Tables of the representatives' console: its users, their server-side sessions, and the
notes representatives leave on escalated conversations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.clock import utcnow
from billing.db.base import Base

ROLES = ("representative", "supervisor")


class ConsoleUser(Base):
    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, encoded with its salt
    role: Mapped[str] = mapped_column(String(16))  # representative | supervisor
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie's token is stored, so a copy of
    the table does not let anyone log in; deleting the row logs the browser out."""

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class EscalationNote(Base):
    """A representative's note on an escalated conversation (internal: never sent)."""

    __tablename__ = "escalation_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleReply(Base):
    """Which outbound message a representative wrote (the transcript shows who spoke).

    message_id refers to messages.id; it is not a foreign key because the messages table
    comes from the gateway's migration branch, not this one."""

    __tablename__ = "console_replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(unique=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
