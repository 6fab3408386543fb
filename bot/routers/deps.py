"""What routes need, as typed dependencies: the app assembles each once (bot.app) and a
route names the ones it uses."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from billing.core.clock import Clock
from bot.channels.base import RequestRefused
from bot.channels.registry import Channels
from bot.channels.sms import SmsChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.web import WebChannel
from bot.pipeline import Pipeline
from clinic.settings import Settings


def get_pipeline(request: Request) -> Pipeline:
    """The message pipeline stored on the app at startup (FastAPI dependency)."""
    return request.app.state.pipeline


def get_settings(request: Request) -> Settings:
    """The app's settings (FastAPI dependency)."""
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    """The app's clock, replaceable in tests (FastAPI dependency)."""
    return request.app.state.clock


def get_channels(request: Request) -> Channels:
    """The app's messaging channels (FastAPI dependency)."""
    return request.app.state.channels


def _configured(channels: Channels, name: str):
    """A channel the settings do not configure refuses its webhook (nothing can sign it)."""
    channel = channels.get(name)
    if channel is None:
        raise RequestRefused(f"the {name} channel is not configured")
    return channel


def get_sms(channels: Annotated[Channels, Depends(get_channels)]) -> SmsChannel:
    """The SMS channel; refuses the request when SMS is not configured."""
    return _configured(channels, "sms")


def get_telegram(channels: Annotated[Channels, Depends(get_channels)]) -> TelegramChannel:
    """The Telegram channel; refuses the request when Telegram is not configured."""
    return _configured(channels, "telegram")


def get_web(channels: Annotated[Channels, Depends(get_channels)]) -> WebChannel:
    """The web chat channel; refuses the request when web chat is not configured."""
    return _configured(channels, "web")


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SmsDep = Annotated[SmsChannel, Depends(get_sms)]
TelegramDep = Annotated[TelegramChannel, Depends(get_telegram)]
WebDep = Annotated[WebChannel, Depends(get_web)]
