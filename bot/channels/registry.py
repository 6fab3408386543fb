"""The configured channels, built once from the settings for the gateway and for reminder
runs alike. A new channel is a module in bot/channels and one line in build_channels (plus its
router in bot/routers when it receives webhooks)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from bot.channels.base import Channel
from bot.channels.web import WebChannel
from clinic.settings import Settings


class Channels(Mapping[str, Channel]):
    """Channels by name ('sms', 'telegram', 'email', 'web'); the web chat is always there."""

    def __init__(self, channels: Iterable[Channel] = ()):
        self._by_name: dict[str, Channel] = {"web": WebChannel()}
        for channel in channels:
            self._by_name[channel.name] = channel

    def __getitem__(self, name: str) -> Channel:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    async def aclose(self) -> None:
        """Close every channel's client."""
        for channel in self._by_name.values():
            await channel.aclose()


def build_channels(settings: Settings, *, telegram_polling: bool = False) -> Channels:
    """The channels the settings configure: SMS with a Twilio account and auth token,
    Telegram with a bot token (polling instead of its webhook when asked), email with an
    SMTP relay and a sender, web always."""
    found: list[Channel] = []
    if settings.twilio_account_sid and settings.twilio_auth_token:
        from bot.channels.sms import SmsChannel

        found.append(SmsChannel(settings))
    if settings.telegram_bot_token:
        from bot.channels.telegram import TelegramChannel

        found.append(TelegramChannel(settings, polling=telegram_polling))
    if settings.smtp_host and settings.email_from:
        from bot.channels.email import EmailChannel

        found.append(EmailChannel(settings))
    return Channels(found)
