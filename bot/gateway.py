"""The gateway: one FastAPI app with the SMS, Telegram and web chat webhooks, the web chat
page and the statement pages. Everything after authentication goes through bot.pipeline."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from telegram.error import TelegramError

from billing.accounts import UnknownAccount, load_snapshot
from billing.core.balances import compute_balance
from billing.core.clock import Clock
from billing.core.explanation import explain
from billing.core.money import fmt
from billing.db.engine import make_engine
from billing.throttle import Throttled
from bot import gateway_openapi as spec
from bot import message_store as store
from bot import web_limits
from bot.channels import sms, web
from bot.channels import telegram as tg
from bot.client_address import proxy_warning, request_ref, trusted_networks
from bot.escalation_notices import NOTIFY_INTERVAL_S, make_notifier
from bot.outbound.sms import SmsSender
from bot.outbound.telegram import TelegramSender, make_bot
from bot.pipeline import Pipeline
from bot.rasa_pool import make_rasa_client
from bot.security_headers import install_security_headers
from clinic.settings import Settings, load_settings
from clinic.statement_links import read_token

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["money"] = fmt

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
             "X-Robots-Tag": "noindex"}


def _forbidden() -> Response:
    return JSONResponse({"error": "forbidden"}, status_code=403)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    telegram_polling: bool = False,
    rasa_transport: httpx.AsyncBaseTransport | None = None,
    sweep_interval_s: float = 30.0,
    notify_interval_s: float = NOTIFY_INTERVAL_S,
) -> FastAPI:
    """The gateway app. Senders are set up for the channels that are configured."""
    settings = settings or load_settings()
    trusted_networks(settings.trusted_proxies)  # a bad TRUSTED_PROXIES stops the start, named
    if (warning := proxy_warning(settings)) is not None:
        log.warning(warning)
    clock = clock or Clock()
    engine = make_engine(settings.database_url)
    senders: dict = {}
    if settings.twilio_account_sid and settings.twilio_auth_token:
        senders["sms"] = SmsSender(settings)
    telegram_sender = None
    if settings.telegram_bot_token:
        telegram_sender = TelegramSender(make_bot(settings))
        senders["telegram"] = telegram_sender
    rasa = make_rasa_client(settings.rasa_url, settings.rasa_timeout_s, transport=rasa_transport)
    pipeline = Pipeline(settings, engine, rasa, senders, clock=clock)
    notifier = make_notifier(settings, engine, telegram_sender, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        background: list[asyncio.Task] = []
        stop = asyncio.Event()
        background.append(asyncio.create_task(pipeline.sweep_forever(sweep_interval_s)))
        if notifier is not None:
            background.append(asyncio.create_task(notifier.run_forever(notify_interval_s)))
        if telegram_sender is not None:
            if telegram_polling:
                background.append(asyncio.create_task(tg.poll(telegram_sender.bot, pipeline, stop)))
            elif settings.telegram_webhook_secret:
                await _set_telegram_webhook(settings, telegram_sender)
        try:
            yield
        finally:
            stop.set()
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await pipeline.aclose()
            if telegram_sender is not None:
                with contextlib.suppress(Exception):
                    await telegram_sender.stop()
            engine.dispose()

    app = FastAPI(title="billbot gateway", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.engine = engine
    app.state.clock = clock
    app.state.notifier = notifier
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    install_security_headers(app)

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.post("/webhooks/twilio/sms", openapi_extra=spec.TWILIO_SMS)
    async def twilio_sms(request: Request):
        form = await request.form()
        url = sms.public_url(settings, request.url.path, request.url.query)
        if not sms.signature_ok(settings, url, form, request.headers.get("X-Twilio-Signature")):
            log.warning("twilio webhook refused: bad or missing signature")
            return _forbidden()
        try:
            inbound = sms.inbound_from_form(form)
        except sms.BadSmsRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        # Acknowledge-then-REST: the row is committed before Twilio gets its 200.
        if await pipeline.accept(inbound) is not None:
            pipeline.schedule(inbound.sender_key)
        return Response(sms.EMPTY_TWIML, media_type="application/xml")

    @app.post("/webhooks/twilio/status", openapi_extra=spec.TWILIO_STATUS)
    async def twilio_status(request: Request):
        form = await request.form()
        url = sms.public_url(settings, request.url.path, request.url.query)
        if not sms.signature_ok(settings, url, form, request.headers.get("X-Twilio-Signature")):
            return _forbidden()
        sid = form.get("MessageSid") or form.get("SmsSid")
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        if not sid or not status:
            return JSONResponse({"error": "MessageSid and MessageStatus are required"},
                                status_code=400)
        error_code = form.get("ErrorCode") or None
        now = clock.now()
        sender_key = await pipeline.db(store.record_delivery_status, "sms", sid, status,
                                        error_code, now)
        if sender_key and error_code == "21610":
            await pipeline.db(store.record_opt_out, sender_key.split(":", 1)[1],
                               "twilio_21610", now)
        return Response(status_code=204)

    @app.post("/webhooks/telegram", openapi_extra=spec.TELEGRAM)
    async def telegram_webhook(request: Request):
        if not tg.secret_ok(settings, request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
            log.warning("telegram webhook refused: bad or missing secret token")
            return _forbidden()
        try:
            update = tg.parse_update(await request.json())
            await tg.accept_update(pipeline, update)
        except (ValueError, tg.BadTelegramUpdate):  # not JSON, or not an update
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        return {"ok": True}

    @app.post("/webhooks/rest/webhook", openapi_extra=spec.WEB_CHAT)
    async def rest_webhook(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body must be JSON"}, status_code=400)
        try:
            inbound = web.inbound_from_json(body)
        except web.BadWebRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        inbound = replace(inbound, client_ref=request_ref(settings, request))
        try:
            await pipeline.db(web_limits.count_message, settings, inbound.channel_user,
                              inbound.client_ref, clock.now())
        except Throttled as exc:
            wait_s = max(1, math.ceil((exc.until - clock.now()).total_seconds()))
            log.info("web chat message refused: over the limit",
                     extra={"limit": exc.key.partition(":")[0]})
            return JSONResponse(
                [{"recipient_id": inbound.channel_user, "text": pipeline.replies.too_many_messages()}],
                status_code=429, headers={"Retry-After": str(wait_s)})
        replies = await pipeline.handle_now(inbound)
        # Rasa's REST format, plus each reply's message id: the page shows a reply once,
        # whether it comes back here or from the poll below.
        return [{"recipient_id": inbound.channel_user, "text": t, "id": mid}
                for mid, t in replies.pairs()]

    @app.get("/webhooks/rest/messages", openapi_extra=spec.WEB_POLL)
    async def rest_messages(request: Request):
        """What was sent to a web chat session after the last message its page showed
        (a representative's replies among them): [{"id", "text"}], oldest first."""
        try:
            session, after = web.poll_query(request.query_params.get("sender"),
                                            request.query_params.get("after"))
        except web.BadWebRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400, headers=_NO_STORE)
        rows = await pipeline.db(store.outbound_after, f"web:{session}", after)
        return JSONResponse([{"id": mid, "text": text} for mid, text in rows],
                            headers=_NO_STORE)

    @app.get("/chat", response_class=HTMLResponse)
    async def chat_page(request: Request):
        resp = templates.TemplateResponse(
            request, "chat.html", {"clinic_name": settings.clinic_name,
                                   "clinic_phone": settings.clinic_phone},
        )
        return resp

    @app.get("/statements/{token}", response_class=HTMLResponse)
    async def statement_page(request: Request, token: str):
        patient_id = read_token(settings, token, clock.now())
        if patient_id is None:
            return HTMLResponse("Not found", status_code=404, headers=_NO_STORE)

        def load():
            with Session(engine) as s:
                snap = load_snapshot(s, patient_id)
            return snap, compute_balance(snap.items)

        try:
            snapshot, balance = await pipeline.db(lambda _engine: load())
        except UnknownAccount:
            return HTMLResponse("Not found", status_code=404, headers=_NO_STORE)
        resp = templates.TemplateResponse(
            request, "statement.html",
            {"s": settings, "snap": snapshot, "bal": balance,
             "explained": explain(balance, snapshot.items),
             "generated": clock.now().strftime("%Y-%m-%d %H:%M UTC")},
            headers=_NO_STORE,
        )
        return resp

    return app


async def _set_telegram_webhook(settings: Settings, sender: TelegramSender) -> None:
    """Point Telegram at our webhook with the secret token; a failure is logged, not fatal."""
    try:
        await sender.start()
        await sender.bot.set_webhook(
            url=settings.public_base_url.rstrip("/") + "/webhooks/telegram",
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=["message"],
        )
    except TelegramError:
        log.warning("could not set the telegram webhook")
