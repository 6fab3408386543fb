"""Stripe's webhook (POST /webhooks/stripe) and the pages a patient returns to from a hosted
checkout. The event is believed only once the SDK has verified its Stripe-Signature with the
endpoint secret: a bad, missing or stale signature is a 400 and nothing is stored."""
from __future__ import annotations

import logging
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse

from billing.payments.processor import BadSignature, PaymentProcessor
from bot.payment_events import handle_event
from bot.routers.deps import ClockDep, PipelineDep, SettingsDep
from bot.routers.pages import templates

log = logging.getLogger(__name__)
router = APIRouter(tags=["payments"])
# Stripe's side reads these (its dashboard shows them); a patient never does.
NOT_CONFIGURED, BAD_SIGNATURE = "payments_not_configured", "bad_signature"


def get_processor(request: Request) -> PaymentProcessor | None:
    """The app's payment processor (None without STRIPE_SECRET_KEY)."""
    return request.app.state.processor


ProcessorDep = Annotated[PaymentProcessor | None, Depends(get_processor)]


@router.post("/webhooks/stripe", include_in_schema=False)
async def stripe_webhook(request: Request, processor: ProcessorDep, pipeline: PipelineDep,
                         clock: ClockDep, settings: SettingsDep,
                         stripe_signature: Annotated[str | None, Header()] = None):
    """A Stripe event: verified, handled once, then the patient's notices sent."""
    if processor is None:
        return JSONResponse({"error": NOT_CONFIGURED}, status_code=400)
    payload = await request.body()
    try:
        event = processor.parse_event(payload, stripe_signature)
    except BadSignature:
        log.warning("stripe event refused: bad signature")
        return JSONResponse({"error": BAD_SIGNATURE}, status_code=400)
    result = await to_thread.run_sync(handle_event, pipeline.engine, processor, event,
                                      clock.now(), settings.clinic_timezone)
    log.info("stripe event", extra={"status": result.outcome, "reason": event.kind})
    for notice in result.notices:
        await pipeline.deliver(notice.sender_key, list(notice.texts))
    return {"received": True, "outcome": result.outcome}


def _page(request: Request, paid: bool, settings) -> HTMLResponse:
    return templates.TemplateResponse(request, "payment_return.html",
                                      {"clinic_name": settings.clinic_name, "paid": paid})


@router.get("/payments/done", include_in_schema=False)
async def payment_done(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Where the hosted checkout sends the patient after paying."""
    return _page(request, True, settings)


@router.get("/payments/cancelled", include_in_schema=False)
async def payment_cancelled(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Where the hosted checkout sends the patient who left without paying."""
    return _page(request, False, settings)
