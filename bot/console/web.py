"""The console's request plumbing: its context (settings, engine, clock, templates), who is
logged in, the CSRF check on every form, and the role check for supervisor pages."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from billing.core.clock import Clock
from billing.core.money import fmt
from bot.console.auth import Identity, csrf_ok, identify

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
SESSION_COOKIE = "billbot_console"
LOGIN_CSRF_COOKIE = "billbot_console_login"


class LoginRequired(Exception):
    """Raised by the identity dependency; the app turns it into a redirect to the login page."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def _when(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return ""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).strftime("%b %d, %I:%M %p")


@dataclass
class ConsoleContext:
    settings: object
    engine: Engine
    clock: Clock = field(default_factory=Clock)
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(HERE / "templates"))
    )

    def __post_init__(self) -> None:
        env = self.templates.env
        env.filters["money"] = fmt
        env.filters["when"] = lambda m: _when(m, self.settings.clinic_timezone)
        env.globals["prefix"] = PREFIX

    @property
    def secure_cookies(self) -> bool:
        return str(self.settings.public_base_url).startswith("https://")

    def now(self) -> datetime:
        return self.clock.now()

    def today(self):
        return self.clock.today(self.settings.clinic_timezone)

    def render(self, request: Request, name: str, status_code: int = 200, **values):
        return self.templates.TemplateResponse(request, name, values, status_code=status_code)


def get_ctx(request: Request) -> ConsoleContext:
    """The console context (settings, database engine, clock) stored on the app by install()."""
    return request.app.state.console


def pipeline_of(request: Request):
    """The gateway's message pipeline (bot/pipeline.py), set on app.state by the gateway."""
    return getattr(request.app.state, "pipeline", None)


def db(ctx: Annotated[ConsoleContext, Depends(get_ctx)]) -> Iterator[Session]:
    """A database session for one request, closed when the request ends."""
    with Session(ctx.engine, expire_on_commit=False) as s:
        yield s


def current_identity(request: Request, ctx: Annotated[ConsoleContext, Depends(get_ctx)]) -> Identity:
    """The logged-in console user from the session cookie;
    raise LoginRequired to send others to login."""
    with Session(ctx.engine) as s:
        who = identify(s, request.cookies.get(SESSION_COOKIE), ctx.now())
    if who is None:
        raise LoginRequired(request.url.path)
    return who


def supervisor(who: Annotated[Identity, Depends(current_identity)]) -> Identity:
    """The logged-in user if a supervisor; raise 403 for representatives."""
    if not who.is_supervisor:
        raise HTTPException(status_code=403, detail="supervisors only")
    return who


async def checked_form(
    request: Request, who: Annotated[Identity, Depends(current_identity)]
) -> dict:
    """The posted form, after its csrf_token matched the session's (403 otherwise)."""
    form = await request.form()
    if not csrf_ok(who.csrf_token, form.get("csrf_token")):
        raise HTTPException(status_code=403, detail="the form's CSRF token is missing or wrong")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def login_redirect_url(next_path: str) -> str:
    """The login page URL that brings the user back to next_path after logging in."""
    return f"{PREFIX}/login?next={quote(next_path, safe='/')}"


def new_login_csrf() -> str:
    """A fresh random token for the login form's double-submit CSRF cookie."""
    return secrets.token_urlsafe(24)


def safe_next(value: str | None) -> str:
    """Only paths inside the console: never an open redirect to another site."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


# A row id in a URL: larger numbers are refused (422) before they reach the database, whose
# integers stop at 2**63 - 1.
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
Ctx = Annotated[ConsoleContext, Depends(get_ctx)]
Db = Annotated[Session, Depends(db)]
Who = Annotated[Identity, Depends(current_identity)]
SupervisorOnly = Annotated[Identity, Depends(supervisor)]
CheckedForm = Annotated[dict, Depends(checked_form)]
