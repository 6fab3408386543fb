"""The console's Locks page: accounts whose verification is locked after too many failed
attempts (any representative may lift one) and console logins locked after failed passwords
(a supervisor may unlock them). Every lift is audited."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from billing.verification_limits import lift_account_lock, locked_accounts
from bot.console import login_limits
from bot.console.web import PREFIX, CheckedForm, Ctx, Db, Who

router = APIRouter(prefix=PREFIX)
DONE = {"account": "Verification lock lifted.", "login": "Login unlocked."}


@router.get("/locks", response_class=HTMLResponse)
def locks_page(request: Request, who: Who, ctx: Ctx, s: Db, done: str = ""):
    """Show the locked patient accounts and, to supervisors, the locked console logins."""
    now = ctx.now()
    return ctx.render(request, "locks.html", who=who, accounts=locked_accounts(s, now),
                      logins=login_limits.locked_logins(s, now) if who.is_supervisor else [],
                      done=DONE.get(done, ""))


@router.post("/locks/accounts/lift")
def lift_account(form: CheckedForm, who: Who, ctx: Ctx, s: Db):
    """Lift the verification lock on a patient account so the patient can try again now."""
    lift_account_lock(s, form.get("account_number", ""), actor=who.actor, now=ctx.now())
    s.commit()
    return RedirectResponse(f"{PREFIX}/locks?done=account", status_code=303)


@router.post("/locks/logins/unlock")
def unlock_login(form: CheckedForm, who: Who, ctx: Ctx, s: Db):
    """Lift a console login lock placed after failed logins (supervisors only)."""
    if not who.is_supervisor:
        raise HTTPException(status_code=403, detail="supervisors only")
    login_limits.unlock(s, form.get("key", ""), actor=who.actor, now=ctx.now())
    s.commit()
    return RedirectResponse(f"{PREFIX}/locks?done=login", status_code=303)
