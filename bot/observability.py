"""The gateway's health and metrics: GET /health with the state of each dependency and
GET /metrics in Prometheus format (messages per channel, Rasa latency, escalations, errors).

mount_observability(app, settings, engine) instruments the app's pipeline in place; nothing
it records carries patient data (channels, statuses and kinds only).
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from billing.db.models import Escalation
from bot.rasa_pool import rasa_urls as rasa_urls_of

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0
RASA_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)

# One set of metrics per process. Under several uvicorn workers the supervisor sets
# PROMETHEUS_MULTIPROC_DIR and /metrics aggregates every worker's files.
INBOUND = Counter("billbot_inbound_messages", "Inbound messages accepted", ["channel"])
OUTBOUND = Counter("billbot_outbound_messages", "Outbound message parts sent", ["channel"])
RASA_LATENCY = Histogram("billbot_rasa_latency_seconds", "Time Rasa took to answer one message",
                         buckets=RASA_BUCKETS)
ESCALATED = Counter("billbot_escalations", "Conversations the gateway queued for a person",
                    ["reason"])
ERRORS = Counter("billbot_errors", "Errors by kind", ["kind"])


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # "ok", or the kind of failure (never a message that could quote data)
    latency_ms: float

    def as_json(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "latency_ms": round(self.latency_ms, 1)}


def action_server_url(settings) -> str:
    return f"http://127.0.0.1:{settings.action_server_port}"


def check_database(engine: Engine) -> Check:
    started = time.perf_counter()
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        return Check("database", True, "ok", _ms(started))
    except SQLAlchemyError as exc:  # only the error's type is reported
        return Check("database", False, type(exc).__name__, _ms(started))


async def check_http(name: str, url: str, client: httpx.AsyncClient) -> Check:
    """An HTTP dependency is up when its health URL answers 200."""
    started = time.perf_counter()
    try:
        resp = await client.get(url, timeout=CHECK_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return Check(name, False, type(exc).__name__, _ms(started))
    if resp.status_code != 200:
        return Check(name, False, f"HTTP {resp.status_code}", _ms(started))
    return Check(name, True, "ok", _ms(started))


def check_redis(redis_url: str) -> Check:
    import redis

    started = time.perf_counter()
    client = redis.Redis.from_url(redis_url, socket_timeout=CHECK_TIMEOUT_S,
                                  socket_connect_timeout=CHECK_TIMEOUT_S)
    try:
        client.ping()
        return Check("redis", True, "ok", _ms(started))
    except redis.RedisError as exc:
        return Check("redis", False, type(exc).__name__, _ms(started))
    finally:
        client.close()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def run_checks(engine: Engine, rasa_urls: Sequence[str], action_url: str | None,
                     redis_url: str | None, client: httpx.AsyncClient) -> list[Check]:
    """Every dependency checked at once; each Rasa instance is its own check."""
    named = [(f"rasa[{i}]" if len(rasa_urls) > 1 else "rasa", u + "/webhooks/rest/")
             for i, u in enumerate(rasa_urls)]
    if action_url:
        named.append(("action_server", action_url.rstrip("/") + "/health"))
    http_checks = [check_http(name, url, client) for name, url in named]
    blocking = [asyncio.to_thread(check_database, engine)]
    if redis_url:
        blocking.append(asyncio.to_thread(check_redis, redis_url))
    return list(await asyncio.gather(*blocking, *http_checks))


def health_body(checks: list[Check]) -> tuple[int, dict]:
    """200 and status 'ok' when every dependency answers; 503 and 'unavailable' otherwise."""
    ok = all(c.ok for c in checks)
    return (200 if ok else 503), {
        "status": "ok" if ok else "unavailable",
        "checks": {c.name: c.as_json() for c in checks},
    }


class EscalationCollector:
    """Escalations by status, read from the database when /metrics is scraped, so the
    ones the action server queues are counted too."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self):
        family = GaugeMetricFamily("billbot_escalations_by_status",
                                   "Escalation rows by status", labels=["status"])
        try:
            with self.engine.connect() as c:
                rows = c.execute(
                    select(Escalation.status, func.count()).group_by(Escalation.status)
                ).all()
        except SQLAlchemyError:
            ERRORS.labels("metrics_database").inc()
            rows = []
        for status, count in rows:
            family.add_metric([status], count)
        yield family


class ErrorLogCounter(logging.Handler):
    """Counts ERROR records of billbot's own loggers (processing failures, sweeps...)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("bot", "billing", "actions")):
            ERRORS.labels("logged_error").inc()


class TimedRasa:
    """The pipeline's Rasa client with its latency and failures measured."""

    def __init__(self, inner):
        self.inner = inner

    async def ask(self, sender_key: str, text: str, channel: str, channel_user: str,
                  client_ref: str | None = None):
        from bot.rasa_client import RasaUnavailable

        started = time.perf_counter()
        try:
            return await self.inner.ask(sender_key, text, channel, channel_user, client_ref)
        except RasaUnavailable:
            ERRORS.labels("rasa_unavailable").inc()
            raise
        finally:
            RASA_LATENCY.observe(time.perf_counter() - started)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name):
        return getattr(self.inner, name)


def instrument_pipeline(pipeline) -> None:
    """Count what passes through the pipeline's public entry points. Idempotent."""
    if getattr(pipeline, "_billbot_instrumented", False):
        return
    pipeline._billbot_instrumented = True
    pipeline.rasa = TimedRasa(pipeline.rasa)
    accept, handle_now, deliver = pipeline.accept, pipeline.handle_now, pipeline.deliver
    unanswered = getattr(pipeline, "_unanswered", None)

    async def counted_accept(msg):
        mid = await accept(msg)
        if mid is not None:
            INBOUND.labels(msg.channel).inc()
        return mid

    async def counted_handle_now(msg):
        INBOUND.labels(msg.channel).inc()
        return await handle_now(msg)

    async def counted_deliver(sender_key, texts, *args, **kwargs):
        sent = await deliver(sender_key, texts, *args, **kwargs)
        channel = {"sms": "sms", "tg": "telegram", "web": "web"}.get(
            sender_key.partition(":")[0], "other")
        OUTBOUND.labels(channel).inc(len(sent))
        return sent

    pipeline.accept = counted_accept
    pipeline.handle_now = counted_handle_now
    pipeline.deliver = counted_deliver
    if unanswered is not None:
        async def counted_unanswered(m):
            ESCALATED.labels("assistant_unavailable").inc()
            return await unanswered(m)

        pipeline._unanswered = counted_unanswered


class ServerErrorCounter:
    """ASGI middleware counting responses with a 5xx status and unhandled exceptions."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") == "/health":
            return await self.app(scope, receive, send)

        async def send_counted(message):
            if message["type"] == "http.response.start" and message["status"] >= 500:
                ERRORS.labels(f"http_{message['status']}").inc()
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except Exception:
            ERRORS.labels("http_unhandled").inc()
            raise


_error_handler: ErrorLogCounter | None = None


def _install_error_counter() -> None:
    global _error_handler
    if _error_handler is None:
        _error_handler = ErrorLogCounter()
        logging.getLogger().addHandler(_error_handler)


def metrics_payload(engine: Engine) -> bytes:
    """Every worker's counters (multiprocess mode) or this process's, plus the escalations."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        from bot.rasa_pool import REQUESTS

        for collector in (INBOUND, OUTBOUND, RASA_LATENCY, ESCALATED, ERRORS, REQUESTS):
            registry.register(collector)
        ProcessCollector(registry=registry)
    registry.register(EscalationCollector(engine))
    return generate_latest(registry)


def mount_observability(app: FastAPI, settings, engine: Engine, *,
                        redis_url: str | None = None,
                        action_url: str | None = None) -> None:
    """Serve /health and /metrics on the gateway and count its traffic. Replaces a plain
    /health route the app already had. redis_url: checked when Rasa's lock store is Redis."""
    rasa_urls = rasa_urls_of(settings.rasa_url)  # several instances: comma-separated
    action_url = action_url or action_server_url(settings)
    app.router.routes[:] = [
        r for r in app.router.routes if not (isinstance(r, APIRoute) and r.path == "/health")
    ]
    pipeline = getattr(app.state, "pipeline", None)
    if pipeline is not None:
        instrument_pipeline(pipeline)
    _install_error_counter()

    app.add_middleware(ServerErrorCounter)

    @app.get("/health")
    async def health():
        async with httpx.AsyncClient() as client:
            checks = await run_checks(engine, rasa_urls, action_url, redis_url, client)
        status, body = health_body(checks)
        if status != 200:
            log.warning("health check failed",
                        extra={"reason": ",".join(c.name for c in checks if not c.ok)})
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    @app.get("/metrics")
    async def metrics():
        payload = await asyncio.to_thread(metrics_payload, engine)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)
