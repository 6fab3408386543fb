"""The email channel: reminders and statement notices to patients whose preferred channel is
email, over SMTP (bot.channels.email_transport) from the configured sender, each with a
plain-text and an HTML part and one-click unsubscribe (bot.channels.email_message). It
receives nothing: replies go to the clinic's mailbox (EMAIL_REPLY_TO), unsubscribes to
bot/routers/email.py, bounces to that router's webhook or straight from the relay's answer.
"""
from __future__ import annotations

from anyio import to_thread

from billing.core.clock import Clock
from bot import email_consent
from bot.channels.base import Channel, Conversation, SendResult
from bot.channels.email_message import OutgoingEmail, build
from bot.channels.email_transport import SmtpSender
from clinic.settings import Settings
from clinic.unsubscribe_links import unsubscribe_url
from clinic.wording import text

PERMANENT = "smtp5"  # error codes of a relay's permanent refusal: the address is failing


def is_bounce(code: str | None) -> bool:
    """True for the relay's permanent refusal of the address (a 5xx answer)."""
    return bool(code) and code.startswith(PERMANENT)


class EmailChannel(Channel):
    """Email to patients' addresses through the clinic's SMTP relay."""

    name = "email"

    def __init__(self, settings: Settings, transport: SmtpSender | None = None,
                 clock: Clock | None = None):
        if not settings.email_from:
            raise ValueError("EMAIL_FROM must be set to send email")
        self.settings = settings
        self.transport = transport or SmtpSender(settings)
        self.clock = clock or Clock()

    def split(self, text_: str) -> list[str]:
        return [text_]

    def message(self, email: OutgoingEmail, lang: str = "en"):
        """The MIME message of `email`, with this clinic's sender and unsubscribe link."""
        s = self.settings
        return build(email, sender=s.email_from, now=self.clock.now(),
                     unsubscribe_url=unsubscribe_url(s, email.to), reply_to=s.email_reply_to,
                     unsubscribe_mailto=s.email_unsubscribe_mailto, lang=lang)

    def send_email_now(self, email: OutgoingEmail, lang: str = "en") -> SendResult:
        """Send one email, blocking (statement runs and reminder runs are synchronous)."""
        return self.transport.send(self.message(email, lang))

    async def send_email(self, email: OutgoingEmail, lang: str = "en") -> SendResult:
        """Send one email off the event loop (smtplib blocks)."""
        return await to_thread.run_sync(self.send_email_now, email, lang)

    async def send(self, user: str, text_: str) -> SendResult:
        """A reminder (or any one text) to an address: the text, paragraphs split on blank
        lines, under the catalogue's subject."""
        subject = text("email.subject", clinic=self.settings.clinic_name)
        paragraphs = tuple(p for p in text_.split("\n\n") if p.strip())
        return await self.send_email(OutgoingEmail(user, subject, paragraphs))

    async def suppressed(self, user: str, conversation: Conversation) -> bool:
        return await conversation.db(email_consent.is_suppressed, user)
