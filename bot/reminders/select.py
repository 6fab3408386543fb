"""The SQL that finds accounts with a patient balance past due, aggregated in the database
(never a ledger loaded into Python), with everything the policy needs to decide about each.

It follows billing.balances and billing.aging: charges sharing a claim form a visit; payments
and adjustments carrying that claim apply to it; a visit pending insurance owes nothing yet;
credits on the account (unapplied payments, overpaid visits) pay off the oldest amounts
first. A visit with no due date has not been billed and is never past due. Two departures,
both towards fewer reminders: a visit with a line marked reminders_paused (a disputed line)
is left out, and the account's whole credit is set against the remaining visits.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from billing.db.models import Dispute, LedgerEntry, Patient, PaymentPlan
from billing.ledger import ClaimStatus, EntryType
from bot.messaging_models import SmsOptOut
from bot.reminders.policy import Candidate
from bot.reminders.reminders_models import ReminderOutbox

_CREDITS = (
    EntryType.INSURANCE_PAYMENT.value,
    EntryType.INSURANCE_ADJUSTMENT.value,
    EntryType.PATIENT_PAYMENT.value,
    EntryType.PATIENT_ADJUSTMENT.value,
)
_RAISES = (EntryType.CHARGE.value, EntryType.REFUND.value)
# Outbox states that mean the step was dealt with (sent, possibly sent, or refused for good).
DONE = ("sending", "sent", "failed", "unknown")
CONTACT = ("sending", "sent", "unknown")


def _positive(expr):
    return case((expr > 0, expr), else_=0)


def past_due_query(cutoff: date):
    """One row per account whose oldest unpaid, non-paused amount fell due on or before
    `cutoff`: (patient_id, oldest_due)."""
    le = LedgerEntry.__table__
    vkey = case((le.c.claim_id.is_not(None), le.c.claim_id),
                else_=literal("#").concat(le.c.entry_id))
    charges = (
        select(
            le.c.patient_id,
            vkey.label("vkey"),
            func.sum(le.c.amount_cents).label("charge"),
            func.max(case((le.c.claim_status == ClaimStatus.PENDING.value, 1), else_=0))
            .label("pending"),
            func.max(case((le.c.reminders_paused, 1), else_=0)).label("paused"),
            func.min(le.c.due_date).label("due"),
        )
        .where(le.c.type == EntryType.CHARGE.value)
        .group_by(le.c.patient_id, vkey)
        .cte("charges")
    )
    applied = (
        select(le.c.patient_id, le.c.claim_id.label("vkey"),
               func.sum(le.c.amount_cents).label("credits"))
        .where(le.c.type.in_(_CREDITS), le.c.claim_id.is_not(None))
        .group_by(le.c.patient_id, le.c.claim_id)
        .cte("applied")
    )
    outstanding = charges.c.charge - func.coalesce(applied.c.credits, 0)
    visits = (
        select(
            charges.c.patient_id,
            charges.c.vkey,
            charges.c.due,
            charges.c.paused,
            case((charges.c.pending == 1, 0), else_=_positive(outstanding)).label("remaining"),
            case((charges.c.pending == 1, _positive(outstanding)), else_=0).label("waiting"),
        )
        .select_from(charges.outerjoin(applied, and_(
            applied.c.patient_id == charges.c.patient_id, applied.c.vkey == charges.c.vkey)))
        .cte("visits")
    )
    totals = (
        select(le.c.patient_id, func.sum(case((le.c.type.in_(_RAISES), le.c.amount_cents),
                                              else_=-le.c.amount_cents)).label("total"))
        .group_by(le.c.patient_id)
        .cte("totals")
    )
    sums = (
        select(visits.c.patient_id, func.sum(visits.c.remaining).label("owed"),
               func.sum(visits.c.waiting).label("waiting"))
        .group_by(visits.c.patient_id)
        .cte("sums")
    )
    due_now = _positive(totals.c.total - sums.c.waiting)
    credit = (
        select(sums.c.patient_id, _positive(sums.c.owed - due_now).label("credit"))
        .join(totals, totals.c.patient_id == sums.c.patient_id)
        .where(sums.c.owed > 0)
        .cte("credit")
    )
    ranked = (
        select(
            visits.c.patient_id,
            visits.c.due,
            func.sum(visits.c.remaining).over(
                partition_by=visits.c.patient_id, order_by=(visits.c.due, visits.c.vkey)
            ).label("cum"),
            credit.c.credit,
        )
        .join(credit, credit.c.patient_id == visits.c.patient_id)
        .where(visits.c.remaining > 0, visits.c.paused == 0, visits.c.due.is_not(None),
               visits.c.due <= cutoff)
        .subquery("ranked")
    )
    return (
        select(ranked.c.patient_id, func.min(ranked.c.due).label("oldest_due"))
        .where(ranked.c.cum > ranked.c.credit)
        .group_by(ranked.c.patient_id)
        .subquery("past_due")
    )


def candidates_query(now: datetime):
    """Accounts past due as of `now` anywhere in the world (the policy then checks the
    patient's own local date), with consent, dispute, plan and outbox state as columns."""
    # Past due locally: oldest_due < local today <= UTC today + 1, so this covers every zone.
    cutoff = now.astimezone(UTC).date()
    pd = past_due_query(cutoff)
    p = Patient.__table__
    ob = ReminderOutbox.__table__
    opted_out = or_(
        p.c.sms_opted_out_at.is_not(None),
        exists().where(SmsOptOut.phone == p.c.phone, SmsOptOut.opted_out.is_(True)),
    )
    return (
        select(
            p.c.id,
            p.c.account_number,
            p.c.preferred_channel,
            p.c.phone.is_not(None).label("has_phone"),
            p.c.sms_consent,
            opted_out.label("opted_out"),
            p.c.telegram_chat_id.is_not(None).label("telegram_linked"),
            p.c.timezone,
            p.c.state,
            exists().where(Dispute.patient_id == p.c.id, Dispute.status == "open")
            .label("open_dispute"),
            exists().where(PaymentPlan.patient_id == p.c.id, PaymentPlan.status == "active")
            .label("active_plan"),
            p.c.needs_review,
            pd.c.oldest_due,
            select(func.max(ob.c.step)).where(ob.c.patient_id == p.c.id, ob.c.status.in_(DONE))
            .scalar_subquery().label("reminded_step"),
            select(func.max(func.coalesce(ob.c.sent_at, ob.c.claimed_at)))
            .where(ob.c.patient_id == p.c.id, ob.c.status.in_(CONTACT))
            .scalar_subquery().label("last_contact"),
        )
        .join(pd, pd.c.patient_id == p.c.id)
        .order_by(p.c.id)
    )


def _aware(value) -> datetime | None:
    """max() over a timestamp comes back as text on SQLite and naive or aware elsewhere."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def find_candidates(engine: Engine, now: datetime, batch: int = 5000) -> Iterator[Candidate]:
    """Stream the candidates (ordered by patient id) without holding them all in memory."""
    with Session(engine) as s:
        result = s.execute(candidates_query(now), execution_options={"yield_per": batch})
        for r in result:
            yield Candidate(
                patient_id=r.id,
                account_number=r.account_number,
                preferred_channel=r.preferred_channel,
                has_phone=bool(r.has_phone),
                sms_consent=bool(r.sms_consent),
                sms_opted_out=bool(r.opted_out),
                telegram_linked=bool(r.telegram_linked),
                timezone=r.timezone,
                state=r.state,
                open_dispute=bool(r.open_dispute),
                active_plan=bool(r.active_plan),
                needs_review=bool(r.needs_review),
                oldest_due=_date(r.oldest_due),
                reminded_step=r.reminded_step,
                last_contact_at=_aware(r.last_contact),
            )


def _date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
