"""The web chat: its page, the REST webhook that answers while the request waits, and the
poll a page uses for replies sent later (a representative's)."""
from __future__ import annotations

import logging
import math
from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from billing.core.sender_key import sender_key
from billing.throttle import Throttled
from bot import gateway_openapi as spec
from bot import message_store as store
from bot import web_limits
from bot.channels.web import BadWebRequest, poll_query
from bot.client_address import request_ref
from bot.routers.deps import PipelineDep, SettingsDep, WebDep
from bot.routers.pages import NO_STORE, templates

log = logging.getLogger(__name__)
router = APIRouter(tags=["webchat"])


@router.post("/webhooks/rest/webhook", openapi_extra=spec.WEB_CHAT, response_model=None)
async def rest_webhook(request: Request, web: WebDep, pipeline: PipelineDep,
                       settings: SettingsDep) -> list[dict] | JSONResponse:
    """Rasa's REST format, plus each reply's message id: the page shows a reply once,
    whether it comes back here or from the poll below."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadWebRequest("the body must be JSON") from exc
    inbound = replace(web.parse(body), client_ref=request_ref(settings, request))
    now = pipeline.clock.now()
    try:
        await pipeline.db(web_limits.count_message, settings, inbound.channel_user,
                          inbound.client_ref, now)
    except Throttled as exc:  # over a limit: a plain answer, nothing stored, Rasa not asked
        wait_s = max(1, math.ceil((exc.until - now).total_seconds()))
        log.info("web chat message refused: over the limit",
                 extra={"limit": exc.key.partition(":")[0]})
        return JSONResponse(
            [{"recipient_id": inbound.channel_user, "text": pipeline.replies.too_many_messages()}],
            status_code=429, headers={"Retry-After": str(wait_s)})
    replies = await pipeline.handle_now(inbound)
    return [{"recipient_id": inbound.channel_user, "text": t, "id": mid}
            for mid, t in replies.pairs()]


@router.get("/webhooks/rest/messages", openapi_extra=spec.WEB_POLL)
async def rest_messages(pipeline: PipelineDep, sender: str | None = None,
                        after: str | None = None) -> JSONResponse:
    """What was sent to a web chat session after the last message its page showed
    (a representative's replies among them): [{"id", "text"}], oldest first."""
    session, after_id = poll_query(sender, after)
    rows = await pipeline.db(store.outbound_after, sender_key("web", session), after_id)
    return JSONResponse([{"id": mid, "text": text} for mid, text in rows], headers=NO_STORE)


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The chat page (its script talks to the two routes above)."""
    return templates.TemplateResponse(
        request, "chat.html", {"clinic_name": settings.clinic_name,
                               "clinic_phone": settings.clinic_phone},
    )
