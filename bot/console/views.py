"""The console's pages: login, the queue, a conversation with the account beside it, and the
supervisor dashboard. Forms post to the routes in bot/console/action_views.py."""
from __future__ import annotations

import logging
import math
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import UnknownAccount
from billing.core.aging import BUCKETS
from billing.core.clock import Clock
from billing.core.promises import PromisePolicy
from billing.escalations.enums import EscalationStatus
from billing.findings import worklist
from billing.languages import service as languages
from billing.languages.enums import NAMES as LANGUAGE_NAMES
from bot.client_address import request_ref
from bot.console import (
    action_views,
    dashboard,
    live,
    lock_views,
    login_limits,
    queue,
    summary,
    transcript,
)
from bot.console.auth import Identity, InvalidLogin, csrf_ok, log_in, log_out
from bot.console.web import (
    HERE,
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    ConsoleContext,
    Ctx,
    Db,
    LoginRequired,
    RowId,
    SupervisorOnly,
    Who,
    login_redirect_url,
    new_login_csrf,
    safe_next,
)
from bot.security_headers import install_security_headers
from clinic.office_hours import is_open, next_opening, when_text

log = logging.getLogger(__name__)
router = APIRouter(prefix=PREFIX)
QUEUE_ERRORS = {
    "taken": "Another representative took that conversation first.",
    "closed": "That conversation is closed.",
}


def install(app: FastAPI, settings, engine, clock: Clock | None = None) -> None:
    """Mount the staff console on app: its context, static
    files, routes, security headers, login redirect."""
    clock = clock or getattr(app.state, "clock", None) or Clock()
    app.state.console = ConsoleContext(settings=settings, engine=engine, clock=clock)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(HERE / "static")), name="console_static")
    app.include_router(router)
    app.include_router(action_views.router)
    app.include_router(live.router)
    app.include_router(lock_views.router)
    install_security_headers(app)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired):
        return RedirectResponse(login_redirect_url(exc.next_path), status_code=303)


def _login_page(request: Request, ctx: ConsoleContext, next_path: str, error: str = "", status=200):
    token = new_login_csrf()
    response = ctx.render(
        request, "login.html", status_code=status, csrf_token=token, next=next_path, error=error
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=ctx.secure_cookies,
        path=PREFIX,
    )
    return response


def _throttled(request: Request, ctx: ConsoleContext, next_path: str, until):
    minutes = max(1, math.ceil((until - ctx.now()).total_seconds() / 60))
    response = _login_page(
        request, ctx, safe_next(next_path),
        f"Too many failed logins. Try again in {minutes} minute{'s' if minutes != 1 else ''}, "
        "or ask a supervisor to unlock your login.", 429)
    response.headers["Retry-After"] = str(minutes * 60)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: Ctx, next: str = ""):
    """Show the console login form; after logging in
    the user goes to next if it is a console path."""
    return _login_page(request, ctx, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    s: Db,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
):
    """Check the login form (CSRF token, throttling,
    password) and set the session cookie on success."""
    # Before login there is no session to hold a token: the form's token must equal the
    # cookie set with the form (double submit), which another site can neither read nor set.
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return HTMLResponse("The form's CSRF token is missing or wrong.", status_code=403)
    address = request_ref(ctx.settings, request)
    try:
        with s.begin():
            login_limits.check(s, username, address, ctx.now())
            token = log_in(s, username, password, ctx.now())
            login_limits.succeeded(s, username)
    except login_limits.LoginThrottled as exc:
        return _throttled(request, ctx, next, exc.until)
    except InvalidLogin:
        with s.begin():
            locked = login_limits.count_failure(s, username, address,
                                                login_limits.LoginLimits.from_settings(ctx.settings),
                                                ctx.now())
        log.info("console login failed", extra={"user_ref": login_limits.user_ref(username)})
        if locked is not None:
            return _throttled(request, ctx, next, locked)
        return _login_page(request, ctx, safe_next(next), "Wrong username or password.", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=ctx.secure_cookies,
        path=PREFIX, max_age=12 * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request, ctx: Ctx,
                 who: Who):
    """End the console session and send the user back to the login page."""
    form = await request.form()
    if not csrf_ok(who.csrf_token, form.get("csrf_token")):
        return HTMLResponse("The form's CSRF token is missing or wrong.", status_code=403)
    with Session(ctx.engine) as s, s.begin():
        log_out(s, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


def _office(ctx: ConsoleContext) -> str:
    now = ctx.now()
    if is_open(ctx.settings, now):
        return "Office open"
    return f"Office closed: opens {when_text(next_opening(ctx.settings, now), now)}"


@router.get("/", response_class=HTMLResponse)
def queue_page(request: Request, who: Who,
               ctx: Ctx, s: Db):
    """Show the queue of open escalations."""
    rows = queue.open_escalations(s)
    return ctx.render(request, "queue.html", who=who, rows=rows, langs=_languages(s, rows),
                      office=_office(ctx), error=QUEUE_ERRORS.get(request.query_params.get("error", ""), ""))


@router.get("/queue.fragment", response_class=HTMLResponse)
def queue_fragment(request: Request, who: Who,
                   ctx: Ctx, s: Db):
    """The queue table alone, for the page to refresh in place when the queue changes."""
    rows = queue.open_escalations(s)
    return ctx.render(request, "_queue_table.html", who=who, rows=rows, langs=_languages(s, rows))


def _languages(s: Session, rows) -> dict[str, str]:
    """Each listed conversation's language, by name ('Spanish'), for the queue's column."""
    codes = languages.conversation_languages(s, [e.sender_key for e in rows])
    return {key: LANGUAGE_NAMES.get(code, code) for key, code in codes.items()}


def conversation_page(request: Request, ctx: ConsoleContext, s: Session, who: Identity,
                      escalation_id: int, error: str = "", done: str = "", status: int = 200):
    """Render one escalation: transcript, notes and
    the account summary (the view is audit-logged)."""
    esc = queue.get(s, escalation_id)
    account = None
    if esc.patient_id is not None:
        account = summary.account_summary(s, esc.patient_id, ctx.today(),
                                          PromisePolicy.from_settings(ctx.settings))
        audit.record(s, who.actor, "console_view_account", esc.patient_id, escalation=esc.id)
        s.commit()
    return ctx.render(
        request, "conversation.html", status_code=status, who=who, esc=esc,
        lines=transcript.lines(s, esc.sender_key, (esc.id,)), account=account, error=error, done=action_views.DONE.get(done, ""),
        holder=esc.status == EscalationStatus.ASSIGNED and esc.assigned_to == who.username,
        today=ctx.today(), language=_languages(s, [esc])[esc.sender_key],
    )


@router.get("/escalations/{escalation_id}", response_class=HTMLResponse)
def conversation(request: Request, escalation_id: RowId, who: Who, ctx: Ctx, s: Db,
                 done: str = ""):
    """Show one escalated conversation, or 404 if it does not exist."""
    try:
        return conversation_page(request, ctx, s, who, escalation_id, done=done)
    except queue.QueueError:
        return HTMLResponse("No such conversation.", status_code=404)


@router.get("/escalations/{escalation_id}/transcript.fragment", response_class=HTMLResponse)
def transcript_fragment(request: Request, escalation_id: RowId,
                        who: Who,
                        ctx: Ctx, s: Db):
    """The conversation's transcript alone, for the page to refresh in place on new messages."""
    try:
        esc = queue.get(s, escalation_id)
    except queue.QueueError:
        return HTMLResponse("No such conversation.", status_code=404)
    return ctx.render(request, "_transcript.html", esc=esc,
                      lines=transcript.lines(s, esc.sender_key, (esc.id,)))


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(request: Request, who: Who, ctx: Ctx, s: Db):
    """Accounts with open findings, largest amount at stake first, for representatives to work."""
    items = worklist(s, PromisePolicy.from_settings(ctx.settings), ctx.today())
    audit.record(s, who.actor, "console_view_worklist", None, accounts=len(items))
    s.commit()
    return ctx.render(request, "worklist.html", who=who, items=items, office=_office(ctx))


@router.get("/accounts/{patient_id}", response_class=HTMLResponse)
def account_page(request: Request, patient_id: RowId, who: Who, ctx: Ctx, s: Db):
    """Show one patient account from the worklist (the view is audit-logged), or 404."""
    try:
        account = summary.account_summary(s, patient_id, ctx.today(),
                                          PromisePolicy.from_settings(ctx.settings))
    except UnknownAccount:
        return HTMLResponse("No such account.", status_code=404)
    audit.record(s, who.actor, "console_view_account", patient_id, source="worklist")
    s.commit()
    return ctx.render(request, "account.html", who=who, account=account, holder=False,
                      today=ctx.today(), office=_office(ctx))


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, who: SupervisorOnly,
                   ctx: Ctx, s: Db):
    """Show the supervisor dashboard: queue counts, reply times and the practice aging chart."""
    stats = dashboard.compute(s, ctx.now(), ctx.today())
    return ctx.render(request, "dashboard.html", who=who, stats=stats, buckets=BUCKETS,
                      chart=dashboard.aging_chart_svg(stats.aging), office=_office(ctx),
                      human_duration=dashboard.human_duration)
