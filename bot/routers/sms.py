"""Twilio's webhooks: inbound SMS (acknowledged once stored, answered in the background) and
delivery statuses of what we sent."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.datastructures import FormData

from billing.core.sender_key import SenderKey
from bot import gateway_openapi as spec
from bot import message_store as store
from bot.channels.sms import EMPTY_TWIML, OPTED_OUT_BY_CARRIER, BadSmsRequest
from bot.routers.deps import ClockDep, PipelineDep, SmsDep

router = APIRouter(prefix="/webhooks/twilio", tags=["sms"])


async def signed_form(request: Request, sms: SmsDep,
                      x_twilio_signature: Annotated[str | None, Header()] = None) -> FormData:
    """The posted form, once Twilio's signature over it checks out (else 403)."""
    form = await request.form()
    sms.authenticate(request.url.path, request.url.query, form, x_twilio_signature)
    return form


SignedForm = Annotated[FormData, Depends(signed_form)]


@router.post("/sms", openapi_extra=spec.TWILIO_SMS)
async def twilio_sms(form: SignedForm, sms: SmsDep, pipeline: PipelineDep) -> Response:
    """An inbound text: the row is committed before Twilio gets its 200."""
    inbound = sms.parse(form)
    if await pipeline.accept(inbound) is not None:
        pipeline.schedule(inbound.sender_key)
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/status", openapi_extra=spec.TWILIO_STATUS)
async def twilio_status(form: SignedForm, sms: SmsDep, pipeline: PipelineDep,
                        clock: ClockDep) -> Response:
    """A delivery status; error 21610 means the number opted out with the carrier."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not status:
        raise BadSmsRequest("MessageSid and MessageStatus are required")
    error_code = form.get("ErrorCode") or None
    sender_key = await pipeline.db(store.record_delivery_status, sms.name, sid, status,
                                   error_code, clock.now())
    if sender_key and error_code == OPTED_OUT_BY_CARRIER:
        await sms.refused(SenderKey.parse(sender_key).user, pipeline)
    return Response(status_code=204)
