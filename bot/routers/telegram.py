"""Telegram's webhook: the secret token checked, the update's message stored and answered
in the background."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from bot import gateway_openapi as spec
from bot.channels.telegram import BadTelegramUpdate
from bot.routers.deps import PipelineDep, TelegramDep

router = APIRouter(prefix="/webhooks", tags=["telegram"])


@router.post("/telegram", openapi_extra=spec.TELEGRAM)
async def telegram_webhook(
    request: Request, telegram: TelegramDep, pipeline: PipelineDep,
    x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
) -> dict:
    """Updates without a patient's message (edits, group chats) are acknowledged too."""
    telegram.authenticate(x_telegram_bot_api_secret_token)
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadTelegramUpdate("not a Telegram update") from exc
    inbound = telegram.parse(body)
    if inbound is not None and await pipeline.accept(inbound) is not None:
        pipeline.schedule(inbound.sender_key)
    return {"ok": True}
