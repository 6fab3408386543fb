"""The composition root: create_app(settings) builds the whole gateway (channels, pipeline,
webhooks, web chat, statement pages, the console, /health and /metrics) for
`billbot gateway`, `billbot serve`'s workers and the tests alike."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from billing.core.clock import Clock
from billing.db.engine import make_engine
from billing.payments.config import processor_from
from bot.channels.registry import Channels, build_channels
from bot.client_address import proxy_warning, trusted_networks
from bot.console import mount_console
from bot.escalation_notices import NOTIFY_INTERVAL_S, make_notifier
from bot.observability import (
    MetricsObserver,
    ServerErrorCounter,
    action_server_url,
    install_error_counter,
)
from bot.pipeline import Pipeline
from bot.pipeline_observer import PipelineObserver
from bot.rasa_pool import make_rasa_client, rasa_urls
from bot.routers import email, health, sms, statements, telegram, webchat
from bot.routers import stripe as stripe_router
from bot.routers.errors import install_error_handlers
from bot.routers.health import HealthTargets
from bot.security_headers import install_security_headers
from clinic.settings import Settings, load_settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    telegram_polling: bool = False,
    rasa_transport: httpx.AsyncBaseTransport | None = None,
    sweep_interval_s: float = 30.0,
    notify_interval_s: float | None = NOTIFY_INTERVAL_S,
    channels: Channels | None = None,
    engine: Engine | None = None,
    observers: Iterable[PipelineObserver] = (),
) -> FastAPI:
    """The gateway app. `channels` default to the configured ones (build_channels),
    `engine` to one on settings.database_url; `observers` watch the pipeline besides the
    metrics."""
    settings = settings or load_settings()
    trusted_networks(settings.trusted_proxies)  # a bad TRUSTED_PROXIES stops the start, named
    if (warning := proxy_warning(settings)) is not None:
        log.warning(warning)
    clock = clock or Clock()
    engine = engine if engine is not None else make_engine(settings.database_url)
    channels = channels if channels is not None else build_channels(
        settings, telegram_polling=telegram_polling)
    rasa = make_rasa_client(settings.rasa_url, settings.rasa_timeout_s, transport=rasa_transport)
    by_language = {"es": make_rasa_client(settings.rasa_url_es, settings.rasa_timeout_s,
                                          transport=rasa_transport)} if settings.rasa_url_es else {}
    pipeline = Pipeline(settings, engine, rasa, channels, clock=clock,
                        observers=[MetricsObserver(), *observers], rasa_by_language=by_language)
    # Notices to representatives go through the bot patients talk to, when there is one.
    tg = channels.get("telegram")
    notifier = make_notifier(settings, engine, getattr(tg, "transport", None), clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = asyncio.Event()
        jobs = [pipeline.sweep_forever(sweep_interval_s)]
        if notifier is not None and notify_interval_s is not None:  # None: the caller drives it
            jobs.append(notifier.run_forever(notify_interval_s))
        for channel in channels.values():
            jobs.extend(channel.background(pipeline, stop))
            await channel.start()
        background = [asyncio.create_task(job) for job in jobs]
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
            await channels.aclose()
            engine.dispose()

    app = FastAPI(title="billbot gateway", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.channels = channels
    app.state.engine = engine
    app.state.clock = clock
    app.state.notifier = notifier
    app.state.processor = processor_from(settings)  # None: the static PAYMENT_LINK
    app.state.health = HealthTargets(
        engine, rasa_urls(settings.rasa_url), action_server_url(settings),
        settings.rasa_lock_store_url or None)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for feature in (health, sms, telegram, webchat, statements, stripe_router, email):
        app.include_router(feature.router)
    install_error_handlers(app)
    install_security_headers(app)
    mount_console(app, settings, engine)
    install_error_counter()
    app.add_middleware(ServerErrorCounter)
    return app
