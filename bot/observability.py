"""The gateway's health checks and metrics: each dependency's state for GET /health, and
the Prometheus metrics for GET /metrics (messages per channel, Rasa latency, escalations,
errors), counted by MetricsObserver, which the pipeline calls (bot.routers.health serves
both). Nothing recorded carries patient data (channels, statuses and kinds only).
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from prometheus_client import (
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

from billing.escalations.models import Escalation

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
    """Base URL of the local Rasa action server."""
    return f"http://127.0.0.1:{settings.action_server_port}"


def check_database(engine: Engine) -> Check:
    """Run SELECT 1 and report ok or the error's type, with the time taken."""
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
    """Ping Redis and report ok or the error's type, with the time taken."""
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


class MetricsObserver:
    """The pipeline's observer that counts into the Prometheus metrics above."""

    def received(self, channel: str) -> None:
        INBOUND.labels(channel).inc()

    def sent(self, channel: str, parts: int) -> None:
        OUTBOUND.labels(channel).inc(parts)

    def assistant_answered(self, seconds: float) -> None:
        RASA_LATENCY.observe(seconds)

    def assistant_failed(self, seconds: float) -> None:
        ERRORS.labels("rasa_unavailable").inc()
        RASA_LATENCY.observe(seconds)

    def escalated(self, reason: str) -> None:
        ESCALATED.labels(reason).inc()


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


def install_error_counter() -> None:
    """Count ERROR log records of billbot's loggers; once per process, however many apps."""
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
