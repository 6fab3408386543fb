"""The SMS consent words as controls, in the order they are asked: an opt-out (a keyword or a
plain-language revocation), an opt-in, silence towards a number that opted out, HELP.
What counts as which word is bot.optout's rule (docs/channels.md)."""
from __future__ import annotations

from billing.core.sender_key import SenderKey
from bot import message_store as store
from bot.channels.base import Control, Conversation, Sent
from bot.optout import Consent, classify, is_carrier_keyword


def _phone(message: store.PendingMessage) -> str:
    return SenderKey.parse(message.sender_key).user


class SmsOptOut(Control):
    """STOP and its kin, or "please stop texting me": recorded, then confirmed unless
    Twilio's own opt-out handling confirms the keyword itself."""

    async def check(self, message, conversation: Conversation) -> object | None:
        if classify(message.text) is not Consent.OPT_OUT:
            return None
        return "keyword" if is_carrier_keyword(message.text) else "phrase"

    async def handle(self, message, found, conversation: Conversation) -> Sent:
        await conversation.db(store.record_opt_out, _phone(message), found,
                              conversation.clock.now())
        await conversation.finish(message, "opt_out")
        if found == "keyword":
            return Sent()
        return await conversation.deliver(message.sender_key, [conversation.replies.opted_out()],
                                          reply_to=message.id, confirm_opt_out=True)


class SmsOptIn(Control):
    """START, UNSTOP, or YES from a number that opted out: texting resumes. Twilio confirms
    these itself, so nothing is sent."""

    async def check(self, message, conversation: Conversation) -> object | None:
        opted_out = await conversation.db(store.is_opted_out, _phone(message))
        return True if classify(message.text, opted_out=opted_out) is Consent.OPT_IN else None

    async def handle(self, message, found, conversation: Conversation) -> Sent:
        await conversation.db(store.record_opt_in, _phone(message), "keyword",
                              conversation.clock.now())
        await conversation.finish(message, "opt_in")
        return Sent()


class SmsSilenceWhenOptedOut(Control):
    """A number that opted out gets no answer at all until it opts in again."""

    async def check(self, message, conversation: Conversation) -> object | None:
        return True if await conversation.db(store.is_opted_out, _phone(message)) else None

    async def handle(self, message, found, conversation: Conversation) -> Sent:
        await conversation.finish(message, "opted_out")
        return Sent()


class SmsHelp(Control):
    """HELP or INFO: the help text carriers require."""

    async def check(self, message, conversation: Conversation) -> object | None:
        return True if classify(message.text) is Consent.HELP else None

    async def handle(self, message, found, conversation: Conversation) -> Sent:
        sent = await conversation.deliver(message.sender_key, [conversation.replies.help()],
                                          reply_to=message.id)
        await conversation.finish(message, "answered")
        return sent


SMS_CONTROLS = (SmsOptOut(), SmsOptIn(), SmsSilenceWhenOptedOut(), SmsHelp())
