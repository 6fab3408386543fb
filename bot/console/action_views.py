"""The console's form posts: take, reply, note, return to bot, and the account actions.
Every form is CSRF-checked (403 without its token); a refused action re-renders the page with
the reason (400) and changes nothing."""
from __future__ import annotations

from datetime import date

from anyio import from_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from billing import audit
from billing.core.money import MoneyError, parse_amount
from bot.console import actions, delivery, queue
from bot.console.auth import Identity
from bot.console.web import PREFIX, CheckedForm, Ctx, Db, RowId, Who, pipeline_of

router = APIRouter(prefix=PREFIX)

DONE = {
    "taken": "You have this conversation now: the patient's messages come to you.",
    "reply": "Reply sent.",
    "note": "Note added.",
    "refund": "Refund request decided.",
    "insurance": "Insurance change decided.",
    "dispute": "Dispute resolved.",
    "plan": "Payment plan created.",
}


def _back(escalation_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/escalations/{escalation_id}?done={done}", status_code=303)


def _refused(request, ctx, s, who, escalation_id, message):
    from bot.console.views import conversation_page

    s.rollback()
    try:
        return conversation_page(request, ctx, s, who, escalation_id, error=message, status=400)
    except queue.QueueError:  # no such conversation at all
        return HTMLResponse("No such conversation.", status_code=404)


@router.post("/escalations/{escalation_id}/take")
def take(request: Request, escalation_id: RowId, form: CheckedForm,
         who: Who, s: Db):
    """Assign the escalation to the logged-in representative,
    then return to it (or to the queue if taken or closed)."""
    try:
        esc = queue.take(s, escalation_id, who.username)
        audit.record(s, who.actor, "take_escalation", esc.patient_id, escalation=esc.id)
        s.commit()
    except queue.QueueError as exc:
        s.rollback()
        code = "taken" if isinstance(exc, queue.AlreadyTaken) else "closed"
        return RedirectResponse(f"{PREFIX}/?error={code}", status_code=303)
    return _back(escalation_id, "taken")


def _held(s: Session, escalation_id: int, who: Identity):
    esc = queue.get(s, escalation_id)
    queue.require_holder(esc, who.username)
    return esc


@router.post("/escalations/{escalation_id}/reply")
def reply(request: Request, escalation_id: RowId, form: CheckedForm,
          who: Who, ctx: Ctx,
          s: Db):
    """Send the holder's reply to the patient on the
    conversation's channel; show the error if refused."""
    try:
        esc = _held(s, escalation_id, who)
        delivery.send_reply(pipeline_of(request), s, esc, form.get("text", ""), who.username,
                            ctx.now())
        s.commit()
    except (queue.QueueError, delivery.DeliveryError) as exc:
        return _refused(request, ctx, s, who, escalation_id, str(exc))
    return _back(escalation_id, "reply")


@router.post("/escalations/{escalation_id}/note")
def note(request: Request, escalation_id: RowId, form: CheckedForm,
         who: Who, ctx: Ctx,
         s: Db):
    """Add an internal note to the escalation (never sent
    to the patient) and record it in the audit log."""
    try:
        esc = queue.get(s, escalation_id)
        queue.add_note(s, esc, who.username, form.get("body", ""), ctx.now())
        audit.record(s, who.actor, "escalation_note", esc.patient_id, escalation=esc.id)
        s.commit()
    except queue.QueueError as exc:
        return _refused(request, ctx, s, who, escalation_id, str(exc))
    return _back(escalation_id, "note")


@router.post("/escalations/{escalation_id}/return")
def return_to_bot(request: Request, escalation_id: RowId, form: CheckedForm,
                  who: Who,
                  ctx: Ctx, s: Db):
    """Close the escalation and hand the conversation
    back to the assistant, telling the patient so."""
    try:
        esc = queue.get(s, escalation_id)
        queue.return_to_bot(s, esc, who.username, form.get("note", ""), ctx.now())
        audit.record(s, who.actor, "return_to_bot", esc.patient_id, escalation=esc.id)
        s.commit()
    except queue.QueueError as exc:
        return _refused(request, ctx, s, who, escalation_id, str(exc))
    try:
        delivery.send_handback(pipeline_of(request), s, esc, who.username)
        s.commit()
    except delivery.DeliveryError:
        s.rollback()  # the conversation is the bot's again either way
    return RedirectResponse(f"{PREFIX}/", status_code=303)


def _account_action(request, escalation_id, who, ctx, s, done, work):
    """Run `work(esc)` for the holder of a verified conversation; 400 with the reason if refused."""
    try:
        esc = _held(s, escalation_id, who)
        if esc.patient_id is None:
            raise actions.ActionError("this conversation has no verified account")
        work(esc)
        s.commit()
    except (queue.QueueError, actions.ActionError, MoneyError, ValueError) as exc:
        return _refused(request, ctx, s, who, escalation_id, str(exc))
    return _back(escalation_id, done)


@router.post("/escalations/{escalation_id}/refunds/{refund_id}")
def decide_refund(request: Request, escalation_id: RowId, refund_id: str,
                  form: CheckedForm, who: Who,
                  ctx: Ctx, s: Db):
    """Approve or reject a pending refund on the escalation's account, from the console form."""
    decision = form.get("decision")

    def work(esc):
        if decision not in ("approve", "reject"):
            raise actions.ActionError("choose approve or reject")
        _, told = actions.decide_refund(
            s, esc.patient_id, refund_id, decision == "approve", who.actor, ctx.today(),
            form.get("note", ""), processor=getattr(request.app.state, "processor", None),
            now=ctx.now())
        if told:  # the processor refunded at once: tell the patient once it is committed
            s.commit()
            for notice in told:
                from_thread.run(pipeline_of(request).deliver, notice.sender_key,
                                list(notice.texts))

    return _account_action(request, escalation_id, who, ctx, s, "refund", work)


@router.post("/escalations/{escalation_id}/insurance/{change_id}")
def decide_insurance(request: Request, escalation_id: RowId, change_id: RowId,
                     form: CheckedForm, who: Who,
                     ctx: Ctx, s: Db):
    """Confirm or reject an insurance change the patient asked for, from the console form."""
    decision = form.get("decision")

    def work(esc):
        if decision not in ("confirm", "reject"):
            raise actions.ActionError("choose confirm or reject")
        actions.decide_insurance_change(s, esc.patient_id, change_id, decision == "confirm",
                                        who.actor)

    return _account_action(request, escalation_id, who, ctx, s, "insurance", work)


@router.post("/escalations/{escalation_id}/disputes/{reference}")
def resolve_dispute(request: Request, escalation_id: RowId, reference: str,
                    form: CheckedForm, who: Who,
                    ctx: Ctx, s: Db):
    """Resolve a billing dispute on the escalation's
    account, optionally posting an adjustment amount."""
    def work(esc):
        raw = (form.get("adjustment") or "0").strip()
        adjustment = parse_amount(raw)
        actions.resolve_dispute(s, esc.patient_id, reference, adjustment,
                                form.get("resolution", ""), who.actor, ctx.today(), ctx.now())

    return _account_action(request, escalation_id, who, ctx, s, "dispute", work)


@router.post("/escalations/{escalation_id}/plan")
def create_plan(request: Request, escalation_id: RowId, form: CheckedForm,
                who: Who, ctx: Ctx,
                s: Db):
    """Set up a payment plan (number of months, first due date) on the escalation's account."""
    def work(esc):
        try:
            months = int(form.get("months", ""))
            first_due = date.fromisoformat(form.get("first_due", ""))
        except ValueError:
            raise actions.ActionError("give the number of months and a first due date") from None
        actions.set_up_plan(s, esc.patient_id, months, first_due, who.actor, ctx.today(),
                            ctx.settings)

    return _account_action(request, escalation_id, who, ctx, s, "plan", work)
