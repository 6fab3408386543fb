"""Email's two inbound doors: the unsubscribe link of every email (GET shows a page with one
button; POST, from that button or from the mail client's one-click of RFC 8058, records the
opt-out like STOP) and the relay's bounce reports (a shared secret; a permanent failure marks
the address failing)."""
from __future__ import annotations

import hmac
import re
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from bot import email_consent
from bot.channels.base import BadChannelRequest, RequestRefused
from bot.routers.deps import ClockDep, PipelineDep, SettingsDep
from bot.routers.pages import NO_STORE, templates
from clinic.unsubscribe_links import read_token

router = APIRouter(tags=["email"])
ONE_CLICK = b"List-Unsubscribe=One-Click"
STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")  # an enhanced status code (RFC 3463)


def _page(request: Request, settings, state: str, action: str = "",
          status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "unsubscribe.html",
        {"s": settings, "state": state, "action": action, "lang": "en"},
        status_code=status_code, headers=NO_STORE)


@router.get("/email/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str, settings: SettingsDep) -> HTMLResponse:
    """Asks before unsubscribing: a GET (a link scanner, a prefetch) changes nothing."""
    if read_token(settings, token) is None:
        return _page(request, settings, "invalid", status_code=404)
    return _page(request, settings, "ask", action=f"/email/unsubscribe/{token}")


@router.post("/email/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(request: Request, token: str, settings: SettingsDep, clock: ClockDep,
                      pipeline: PipelineDep) -> HTMLResponse:
    """Records the opt-out of the link's address (RFC 8058 one-click, or the page's button)."""
    address = read_token(settings, token)
    if address is None:
        return _page(request, settings, "invalid", status_code=404)
    body = await request.body()
    source = "one_click" if ONE_CLICK in body else "unsubscribe_page"
    await pipeline.db(email_consent.record_opt_out, address, source, clock.now())
    return _page(request, settings, "done")


class Bounce(BaseModel):
    recipient: str = Field(max_length=254)
    status: str = Field(max_length=16, description="enhanced status code, e.g. 5.1.1")


class BounceReport(BaseModel):
    bounces: list[Bounce] = Field(max_length=1000)


@router.post("/webhooks/email/bounce")
async def bounce_webhook(report: BounceReport, settings: SettingsDep, clock: ClockDep,
                         pipeline: PipelineDep,
                         x_bounce_secret: Annotated[str | None, Header()] = None) -> dict:
    """The relay's bounce reports: a permanent failure (5.x.x) marks the address failing;
    a temporary one (4.x.x) changes nothing (the relay retries)."""
    expected = settings.email_bounce_webhook_secret
    if not expected or x_bounce_secret is None or not hmac.compare_digest(
            expected.encode(), x_bounce_secret.encode()):
        raise RequestRefused("bad or missing bounce secret")
    for b in report.bounces:
        if not STATUS.match(b.status) or "@" not in b.recipient:
            raise BadChannelRequest("each bounce needs a recipient and a status like 5.1.1")
    marked = 0
    for b in report.bounces:
        if b.status.startswith("5"):
            marked += await pipeline.db(email_consent.record_failing, b.recipient, b.status,
                                        clock.now())
    return {"marked": marked}
