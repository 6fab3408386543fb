"""Live updates for open console pages, as server-sent events.

The stream watches the database (so it sees messages written by any gateway worker): once a
second it takes a fingerprint of the queue, or of one conversation, and sends an event when
it changed; the page then fetches the fresh fragment. A comment line every 15 s keeps proxies
from closing an idle stream."""
from __future__ import annotations

import asyncio
import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from billing.escalations.enums import OPEN
from billing.escalations.models import Escalation
from bot.console.console_models import EscalationNote
from bot.console.transcript import last_message_id
from bot.console.web import PREFIX, Ctx, Who

router = APIRouter(prefix=PREFIX)
POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0


def queue_fingerprint(session: Session) -> str:
    """A short hash of the open queue (ids, status,
    holder, priority) that changes when the queue does."""
    rows = session.execute(
        select(Escalation.id, Escalation.status, Escalation.assigned_to, Escalation.priority)
        .where(Escalation.status.in_(OPEN))
        .order_by(Escalation.id)
    ).all()
    return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()[:16]


def conversation_fingerprint(session: Session, escalation_id: int) -> str:
    """A short hash of a conversation's state (last
    message, notes, status, holder); 'gone' if deleted."""
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        return "gone"
    notes = session.scalar(
        select(func.count()).select_from(EscalationNote)
        .where(EscalationNote.escalation_id == escalation_id)
    )
    state = (last_message_id(session, esc.sender_key), notes, esc.status, esc.assigned_to)
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def sse(event: str, data: str) -> str:
    """Format one server-sent event with its name and data line."""
    return f"event: {event}\ndata: {data}\n\n"


@router.get("/events")
async def events(request: Request, who: Who, ctx: Ctx, escalation: int | None = None):
    """Stream server-sent events telling an open console
    page that the queue or a conversation changed."""
    kind = "transcript" if escalation is not None else "queue"

    def fingerprint() -> str:
        with Session(ctx.engine) as s:
            if escalation is not None:
                return conversation_fingerprint(s, escalation)
            return queue_fingerprint(s)

    async def stream():
        last = await run_in_threadpool(fingerprint)
        yield "retry: 2000\n\n"
        quiet = 0.0
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            current = await run_in_threadpool(fingerprint)
            if current != last:
                last = current
                quiet = 0.0
                yield sse(kind, current)
            else:
                quiet += POLL_SECONDS
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keepalive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
