"""GET /health (every dependency checked; 503 naming the ones down) and GET /metrics
(Prometheus). The checks and counters are in bot.observability."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import Engine

from bot.observability import health_body, metrics_payload, run_checks

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@dataclass(frozen=True)
class HealthTargets:
    """What /health checks: the database, each Rasa instance, the action server and, when
    Rasa's lock store is Redis, Redis."""

    engine: Engine
    rasa_urls: list[str]
    action_url: str | None
    redis_url: str | None


def get_targets(request: Request) -> HealthTargets:
    """The services the health endpoint checks, stored on the app at startup."""
    return request.app.state.health


TargetsDep = Annotated[HealthTargets, Depends(get_targets)]


@router.get("/health")
async def health(targets: TargetsDep) -> JSONResponse:
    """200 when every dependency answers, else 503; never cached."""
    async with httpx.AsyncClient() as client:
        checks = await run_checks(targets.engine, targets.rasa_urls, targets.action_url,
                                  targets.redis_url, client)
    status, body = health_body(checks)
    if status != 200:
        log.warning("health check failed",
                    extra={"reason": ",".join(c.name for c in checks if not c.ok)})
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/metrics")
async def metrics(targets: TargetsDep) -> Response:
    """Every worker's counters, plus escalations by status read from the database."""
    payload = await asyncio.to_thread(metrics_payload, targets.engine)
    return Response(payload, media_type=CONTENT_TYPE_LATEST)
