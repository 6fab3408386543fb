"""Domain errors turned into HTTP responses, in one place: a refused webhook is 403, a
request a channel cannot take is 400 with its reason, a statement that is not there is 404.
Nothing else about an error (no stack trace, no data) reaches the caller."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from billing.accounts import UnknownAccount
from bot.channels.base import BadChannelRequest, RequestRefused
from bot.routers.pages import NO_STORE

log = logging.getLogger(__name__)


class StatementNotFound(Exception):
    """A statement link that is not valid (forged, expired, or links were disabled)."""


async def _refused(request: Request, exc: RequestRefused) -> JSONResponse:
    log.warning("webhook refused", extra={"reason": str(exc)})
    return JSONResponse({"error": "forbidden"}, status_code=403)


async def _bad_request(request: Request, exc: BadChannelRequest) -> JSONResponse:
    # no-store: the web chat's poll answers with these too, and no error is worth caching.
    return JSONResponse({"error": str(exc)}, status_code=400, headers=NO_STORE)


async def _not_found(request: Request, exc: Exception) -> HTMLResponse:
    return HTMLResponse("Not found", status_code=404, headers=NO_STORE)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on the gateway app."""
    app.add_exception_handler(RequestRefused, _refused)
    app.add_exception_handler(BadChannelRequest, _bad_request)
    app.add_exception_handler(StatementNotFound, _not_found)
    app.add_exception_handler(UnknownAccount, _not_found)
