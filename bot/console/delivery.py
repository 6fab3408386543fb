"""A representative's words to the patient: sent over the patient's own channel by the
gateway's pipeline (so they are split, masked, consent-checked and recorded in the transcript
like any reply), then marked as the representative's in console_replies."""
from __future__ import annotations

from datetime import datetime

from anyio import from_thread
from sqlalchemy.orm import Session

from billing import audit
from billing.escalations.models import Escalation
from bot.console import queue
from bot.console.console_models import ConsoleReply
from clinic.wording import text

MAX_REPLY_CHARS = 1600
HANDBACK_TEXT = text("handback")  # the catalogue's (clinic.wording)


class DeliveryError(Exception):
    """The reply could not be sent (the reason is safe to show the representative)."""


def _deliver(pipeline, session: Session, esc: Escalation, text: str, author: str) -> list[str]:
    """Send through the pipeline (from a worker thread, onto the gateway's event loop) and
    tag exactly the outbound rows it wrote (Sent.written, failed parts included so the
    transcript shows who tried) as the representative's."""
    if pipeline is None:
        raise DeliveryError("the gateway's message pipeline is not running")
    session.commit()  # release the connection while the channel is called
    sent = from_thread.run(pipeline.deliver, esc.sender_key, [text])
    for message_id in sent.written:
        session.add(ConsoleReply(message_id=message_id, escalation_id=esc.id, author=author))
    return sent


def send_reply(pipeline, session: Session, esc: Escalation, text: str, author: str,
               now: datetime) -> None:
    """Send the holder's reply; the first one that goes out sets first_reply_at."""
    text = (text or "").strip()
    if not text:
        raise DeliveryError("the reply is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise DeliveryError(f"a reply is at most {MAX_REPLY_CHARS} characters")
    queue.require_holder(esc, author)
    sent = _deliver(pipeline, session, esc, text, author)
    if not sent:
        session.commit()  # keep the failed attempt in the transcript
        raise DeliveryError("the reply could not be delivered; see its status in the transcript")
    esc = session.get(Escalation, esc.id)
    queue.mark_replied(esc, now)
    audit.record(session, f"rep:{author}", "rep_reply", esc.patient_id, escalation=esc.id,
                 channel=esc.channel, parts=len(sent))


def send_handback(pipeline, session: Session, esc: Escalation, author: str) -> None:
    """Tell the patient the assistant answers again (best effort: the hand-back stands even
    if this message fails)."""
    _deliver(pipeline, session, esc, HANDBACK_TEXT, author)
