"""The web chat: its page, the REST webhook that answers while the request waits, and the
poll a page uses for replies sent later (a representative's)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from billing.core.sender_key import sender_key
from bot import message_store as store
from bot.channels.web import BadWebRequest, poll_query
from bot.routers.deps import PipelineDep, SettingsDep, WebDep
from bot.routers.pages import NO_STORE, PAGE_CSP, templates

router = APIRouter(tags=["webchat"])


@router.post("/webhooks/rest/webhook")
async def rest_webhook(request: Request, web: WebDep, pipeline: PipelineDep) -> list[dict]:
    """Rasa's REST format, plus each reply's message id: the page shows a reply once,
    whether it comes back here or from the poll below."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadWebRequest("the body must be JSON") from exc
    inbound = web.parse(body)
    replies = await pipeline.handle_now(inbound)
    return [{"recipient_id": inbound.channel_user, "text": t, "id": mid}
            for mid, t in replies.pairs()]


@router.get("/webhooks/rest/messages")
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
    resp = templates.TemplateResponse(
        request, "chat.html", {"clinic_name": settings.clinic_name,
                               "clinic_phone": settings.clinic_phone},
    )
    resp.headers["Content-Security-Policy"] = PAGE_CSP
    return resp
