"""A conversation as the console shows it: the messages table (inbound, bot and representative
replies) merged in time order with the representatives' internal notes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console.console_models import ConsoleReply, EscalationNote
from bot.messaging_models import INBOUND, Message

MAX_LINES = 200


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str  # 'patient', 'bot', 'rep:alice', 'note:alice'
    text: str
    status: str = ""

    @property
    def kind(self) -> str:
        return self.who.split(":", 1)[0]

    @property
    def author(self) -> str:
        return self.who.split(":", 1)[1] if ":" in self.who else ""


def lines(session: Session, sender_key: str, escalation_ids: tuple[int, ...] = ()) -> list[Line]:
    """The last MAX_LINES messages of the sender, with notes of the given escalations."""
    rows = session.execute(
        select(Message, ConsoleReply.author)
        .outerjoin(ConsoleReply, ConsoleReply.message_id == Message.id)
        .where(Message.sender_key == sender_key)
        .order_by(Message.id.desc())
        .limit(MAX_LINES)
    ).all()
    out = [
        Line(
            at=m.created_at,
            who="patient" if m.direction == INBOUND else (f"rep:{author}" if author else "bot"),
            text=m.text,
            status=m.status if m.direction != INBOUND else "",
        )
        for m, author in reversed(rows)
    ]
    if escalation_ids:
        out += [
            Line(at=n.created_at, who=f"note:{n.author}", text=n.body)
            for n in session.scalars(
                select(EscalationNote).where(EscalationNote.escalation_id.in_(escalation_ids))
            )
        ]
    return sorted(out, key=lambda line: line.at)


def last_message_id(session: Session, sender_key: str) -> int:
    """Id of the newest message to or from the sender,
    0 if none; a cheap way to notice new messages."""
    return session.scalar(
        select(func.coalesce(func.max(Message.id), 0)).where(Message.sender_key == sender_key)
    )
