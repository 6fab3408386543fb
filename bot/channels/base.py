"""What every channel is made of: the inbound message it hands the pipeline, the result of
one send, the control words it answers itself, and the Channel class each adapter extends.

A channel knows its own wire format, authentication, splitting, sending and control words;
the pipeline knows none of them by name."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from billing.core.sender_key import SenderKey, sender_key

if TYPE_CHECKING:
    from billing.core.clock import Clock
    from bot import message_store
    from bot.pipeline import Replies


class RequestRefused(Exception):
    """An inbound request that failed its channel's authentication (HTTP 403)."""


class BadChannelRequest(ValueError):
    """An authenticated request that still lacks what the channel needs (HTTP 400);
    the message says why and is shown to the caller."""


@dataclass(frozen=True)
class InboundMessage:
    """A message whose channel has already been authenticated by its adapter."""

    channel: str  # the channel's name: sms | telegram | web
    channel_user: str  # E.164 phone, Telegram chat id, web session id
    text: str
    external_id: str | None = None  # MessageSid, update_id; None for web
    client_ref: str | None = None  # web: the client's hashed address (bot/client_address.py)

    @property
    def sender_key(self) -> str:
        return sender_key(self.channel, self.channel_user)


@dataclass(frozen=True)
class SendResult:
    """What a channel said about one part sent."""

    status: str  # sent | delivered | failed
    external_id: str | None = None
    error_code: str | None = None
    opted_out: bool = False  # the carrier says this number has opted out (Twilio 21610)


class Sent(list):
    """What Pipeline.deliver sent: a list of the texts of the parts that went out (what every
    caller has always read), with `ids`, the outbound message id of each of those parts, and
    `written`, the id of every outbound row written, whether it went out or not (suppressed,
    failed), in order."""

    def __init__(self, parts: list[tuple[int, str]] | None = None,
                 written: list[int] | None = None):
        parts = parts or []
        super().__init__(text for _, text in parts)
        self.ids: list[int] = [mid for mid, _ in parts]
        self.written: list[int] = list(written or [])

    def pairs(self) -> list[tuple[int, str]]:
        """(message id, text) of each part that went out."""
        return list(zip(self.ids, self, strict=True))


class Conversation(Protocol):
    """The part of the pipeline a control word may use (Pipeline implements it)."""

    replies: Replies
    clock: Clock

    async def db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    async def deliver(self, sender_key: str, texts: list[str], reply_to: int | None = None,
                      confirm_opt_out: bool = False) -> Sent: ...

    async def finish(self, message: message_store.PendingMessage, status: str) -> None: ...


class Control(ABC):
    """A word a channel answers itself before the assistant sees it (STOP, START, HELP).

    The pipeline asks each control of the message's channel in turn: the first whose check
    returns something handles the message. check may read the database (whether a number
    is opted out), hence async."""

    @abstractmethod
    async def check(self, message: message_store.PendingMessage,
                    conversation: Conversation) -> object | None:
        """What this control found in the message, or None: not mine."""

    @abstractmethod
    async def handle(self, message: message_store.PendingMessage, found: object,
                     conversation: Conversation) -> Sent | None:
        """Answer the message. None hands it on to the assistant after all (a Telegram
        START in a chat that never stopped reminders is a greeting)."""


class Channel(ABC):
    """One way patients reach the clinic. Subclasses set `name` (stored with each message)
    and implement send; the rest has defaults that suit a channel with no limits."""

    name: str
    controls: Sequence[Control] = ()

    def key(self, user: str) -> SenderKey:
        return SenderKey(self.name, user)

    def split(self, text: str) -> list[str]:
        """The parts one reply goes out in (SMS segments, Telegram's 4096 characters)."""
        return [text]

    @abstractmethod
    async def send(self, user: str, text: str) -> SendResult:
        """Send one part to one user and say what the channel answered."""

    async def suppressed(self, user: str, conversation: Conversation) -> bool:
        """True when nothing may be sent to this user now (an SMS number that opted out)."""
        return False

    async def refused(self, user: str, conversation: Conversation) -> None:  # noqa: B027 - optional hook
        """The channel said this user opted out (SendResult.opted_out): remember it."""

    @property
    def rate_key(self) -> str | None:
        """The sending identity whose rate reminders limit (an SMS from-number), or None."""
        return None

    def background(self, conversation: Any, stop: Any) -> list[Awaitable[None]]:
        """Coroutines the gateway runs while it serves (Telegram polling); none by default."""
        return []

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Called once when the gateway starts (Telegram sets its webhook)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release the channel's client when the gateway or a reminder run stops."""
