"""Was every SMS answered exactly once and in order? The audit of one load stage.

The load generator knows what each simulated patient sent (its MessageSids, in order) and the
Twilio double knows what reached each phone (each part with the sid it gave it, in arrival
order). Which message a delivered part answers is the gateway's own record: every outbound
row keeps the Twilio sid it was sent under and the inbound message it replies to (whose
external id is the MessageSid). audit() joins the three:

- lost: a message sent that no delivered part answers;
- duplicated: a part delivered twice (the same sid), a delivered part the gateway has no
  record of (a send retried after Twilio had taken it: the row keeps the last sid only), or a
  message whose parts are its whole reply twice over (processed twice). Two equal parts in one
  reply are not duplicates: an itemised list may read the same visit line twice (a charge
  billed twice);
- reordered: a part that answers an earlier message than a part delivered before it to the
  same phone.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text


@dataclass(frozen=True)
class Delivery:
    """One part that reached the Twilio double, in the order the double received them."""

    phone: str
    sid: str  # the sid the double answered with
    body: str


@dataclass
class Audit:
    messages: int = 0
    lost: list[tuple[str, str]] = field(default_factory=list)  # (phone, MessageSid)
    duplicated: list[tuple[str, str]] = field(default_factory=list)  # (phone, sid)
    reordered: list[tuple[str, str]] = field(default_factory=list)  # (phone, sid)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.reordered)

    def line(self) -> str:
        return (f"{self.messages} messages: {len(self.lost)} lost, {len(self.duplicated)} "
                f"duplicated, {len(self.reordered)} reordered")


def audit(sent: Mapping[str, list[str]], deliveries: Iterable[Delivery],
          answers: Mapping[str, str]) -> Audit:
    """sent: phone -> the MessageSids it sent, in order; deliveries: every part the double
    received (phones not in `sent` are ignored); answers: Twilio sid -> the MessageSid the
    gateway sent that part in reply to."""
    result = Audit(messages=sum(len(v) for v in sent.values()))
    position = {phone: {ref: i for i, ref in enumerate(refs)} for phone, refs in sent.items()}
    answered: set[tuple[str, str]] = set()
    bodies: dict[str, list[tuple[str, str, str]]] = {}  # MessageSid -> (phone, sid, body)
    seen_sids: set[str] = set()
    latest: dict[str, int] = {}
    for d in deliveries:
        if d.phone not in position:
            continue
        ref = answers.get(d.sid)
        index = position[d.phone].get(ref) if ref is not None else None
        if index is None or d.sid in seen_sids:
            result.duplicated.append((d.phone, d.sid))
            continue
        seen_sids.add(d.sid)
        bodies.setdefault(ref, []).append((d.phone, d.sid, d.body))
        answered.add((d.phone, ref))
        if index < latest.get(d.phone, -1):
            result.reordered.append((d.phone, d.sid))
        latest[d.phone] = max(index, latest.get(d.phone, -1))
    for parts in bodies.values():
        half = len(parts) // 2
        texts = [b for _, _, b in parts]
        if half and len(parts) % 2 == 0 and texts[:half] == texts[half:]:
            result.duplicated += [(phone, sid) for phone, sid, _ in parts[half:]]
    result.lost = [(phone, ref) for phone, refs in sent.items() for ref in refs
                   if (phone, ref) not in answered]
    return result


def gateway_answers(database_url: str) -> dict[str, str]:
    """Twilio sid -> the MessageSid it answers, from the gateway's messages table."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT o.external_id, i.external_id FROM messages o "
                "JOIN messages i ON o.reply_to_id = i.id "
                "WHERE o.direction = 'out' AND o.channel = 'sms' AND o.external_id IS NOT NULL"))
            return {sid: ref for sid, ref in rows}
    finally:
        engine.dispose()
