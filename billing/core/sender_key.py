"""Who a conversation is with, as one value: a channel and that channel's user id, written
'sms:+15551234567', 'tg:4242' or 'web:<session uuid>' wherever it is stored or looked up
(messages, verifications, escalations, the reminder outbox, Rasa's tracker id).

This is the only place that knows how a channel's name becomes its key prefix."""
from __future__ import annotations

from dataclasses import dataclass

# Telegram's keys were written 'tg:' before there were more channels, and stored keys must
# keep matching. Every other channel's prefix is its own name, so a new channel needs no
# entry here.
_ABBREVIATED = {"telegram": "tg"}
_EXPANDED = {prefix: channel for channel, prefix in _ABBREVIATED.items()}


class BadSenderKey(ValueError):
    """A string that is not '<prefix>:<user>'."""


@dataclass(frozen=True)
class SenderKey:
    """A channel name ('sms', 'telegram', 'web', ...) and the user id on that channel."""

    channel: str
    user: str

    @classmethod
    def parse(cls, text: str) -> SenderKey:
        """'tg:4242' -> SenderKey('telegram', '4242'). Raises BadSenderKey without a prefix."""
        prefix, sep, user = (text or "").partition(":")
        if not sep or not prefix:
            raise BadSenderKey(f"not a sender key: {text!r}")
        return cls(_EXPANDED.get(prefix, prefix), user)

    @property
    def prefix(self) -> str:
        return _ABBREVIATED.get(self.channel, self.channel)

    def __str__(self) -> str:
        return f"{self.prefix}:{self.user}"


def sender_key(channel: str, user: str) -> str:
    """The stored form of a channel's user: sender_key('telegram', '42') == 'tg:42'."""
    return str(SenderKey(channel, user))
