"""The SQL that finds accounts with a patient balance past due, aggregated in the database
(never a ledger loaded into Python), with everything the policy needs to decide about each.

It states billing.core.allocation's rule in SQL, for speed: charges sharing a claim form a visit;
lines carrying that claim apply to it; a visit pending insurance owes nothing yet; money tied
to no visit and every visit's overpayment, net of refunds, form the pool, which pays off the
open shares oldest first (due date, none last; then service date; then visit key). A visit
still open after that is owed; one with no due date has not been billed and is never past due.
One departure, towards fewer reminders: a visit with a line marked reminders_paused (a
disputed line) still takes its turn in the allocation but is never reminded about.
tests/billing/test_allocation_sql.py holds this query to the Python rule on both databases.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from billing.core.ledger import ClaimStatus, EntryType
from billing.db.models import LedgerEntry, Patient
from billing.disputes.enums import DisputeStatus
from billing.disputes.models import Dispute
from billing.payment_plans.enums import PlanStatus
from billing.payment_plans.models import PaymentPlan
from bot.messaging_models import EmailOptOut, SmsOptOut
from bot.reminders.policy import Candidate
from bot.reminders.reminders_models import ReminderOutbox

_CREDITS = (
    EntryType.INSURANCE_PAYMENT.value,
    EntryType.INSURANCE_ADJUSTMENT.value,
    EntryType.PATIENT_PAYMENT.value,
    EntryType.PATIENT_ADJUSTMENT.value,
)
# Outbox states that mean the step was dealt with (sent, possibly sent, or refused for good).
DONE = ("sending", "sent", "failed", "unknown")
CONTACT = ("sending", "sent", "unknown")
MAX_EMAIL_IN_KEY = 114


def _positive(expr):
    return case((expr > 0, expr), else_=0)


def past_due_query(cutoff: date):
    """One row per account whose oldest open, non-paused amount fell due on or before
    `cutoff`: (patient_id, oldest_due).

    One pass over ledger_entries: lines grouped by visit key (a charge's claim, else the
    line itself), then window sums per account. No self-joins, so the plan stays linear
    even on tables the planner has no statistics for yet."""
    le = LedgerEntry.__table__
    is_charge = le.c.type == EntryType.CHARGE.value
    vkey = case((le.c.claim_id.is_not(None), le.c.claim_id),
                else_=literal("#").concat(le.c.entry_id))
    g = (
        select(
            le.c.patient_id,
            vkey.label("vkey"),
            func.sum(case((is_charge, le.c.amount_cents), else_=0)).label("charge"),
            func.sum(case((le.c.type.in_(_CREDITS), le.c.amount_cents), else_=0))
            .label("credits"),
            func.sum(case((le.c.type == EntryType.REFUND.value, le.c.amount_cents), else_=0))
            .label("refunds"),
            func.max(case((is_charge, 1), else_=0)).label("has_charge"),
            func.max(case((and_(is_charge, le.c.claim_status == ClaimStatus.PENDING.value), 1),
                          else_=0)).label("pending"),
            func.max(case((and_(is_charge, le.c.reminders_paused), 1), else_=0)).label("paused"),
            func.min(case((is_charge, le.c.due_date))).label("due"),
            func.min(case((is_charge, le.c.service_date))).label("served"),
        )
        .group_by(le.c.patient_id, vkey)
        .subquery("g")
    )
    # A key with no charge is money tied to no visit: all of it (refunds negative) is pool.
    net = g.c.charge + g.c.refunds - g.c.credits
    billed = and_(g.c.has_charge == 1, g.c.pending == 0)
    v = (
        select(
            g.c.patient_id,
            g.c.vkey,
            g.c.due,
            g.c.served,
            g.c.paused,
            case((billed, _positive(net)), else_=0).label("owed"),
            case((g.c.has_charge == 0, -net), else_=_positive(-net)).label("pool_in"),
        )
        .subquery("v")
    )
    w = (
        select(
            v.c.patient_id,
            v.c.due,
            v.c.paused,
            v.c.owed,
            func.sum(v.c.pool_in).over(partition_by=v.c.patient_id).label("pool"),
            # allocation order (billing.core.allocation.allocation_order): oldest first
            func.sum(v.c.owed).over(
                partition_by=v.c.patient_id,
                order_by=(v.c.due.is_(None), v.c.due, v.c.served.is_(None), v.c.served,
                          v.c.vkey),
                rows=(None, 0),
            ).label("cum"),
        )
        .subquery("w")
    )
    still_open = and_(w.c.owed > 0, w.c.cum > _positive(w.c.pool))
    return (
        select(w.c.patient_id, func.min(w.c.due).label("oldest_due"))
        .where(still_open, w.c.paused == 0, w.c.due.is_not(None), w.c.due <= cutoff)
        .group_by(w.c.patient_id)
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
    email_opted_out = or_(
        p.c.email_opted_out_at.is_not(None),
        exists().where(EmailOptOut.address == func.lower(p.c.email),
                       EmailOptOut.opted_out.is_(True)),
    )
    return (
        select(
            p.c.id,
            p.c.account_number,
            p.c.preferred_channel,
            # A sender key ('email:' + address) fits the 120 characters of its columns.
            and_(p.c.email.is_not(None), func.length(p.c.email) <= MAX_EMAIL_IN_KEY)
            .label("has_email"),
            p.c.email_consent,
            email_opted_out.label("email_opted_out"),
            p.c.email_failing_at.is_not(None).label("email_failing"),
            p.c.phone.is_not(None).label("has_phone"),
            p.c.sms_consent,
            opted_out.label("opted_out"),
            p.c.telegram_chat_id.is_not(None).label("telegram_linked"),
            p.c.telegram_opted_out_at.is_not(None).label("telegram_opted_out"),
            p.c.timezone,
            p.c.state,
            exists().where(Dispute.patient_id == p.c.id, Dispute.status == DisputeStatus.OPEN)
            .label("open_dispute"),
            exists().where(PaymentPlan.patient_id == p.c.id, PaymentPlan.status == PlanStatus.ACTIVE)
            .label("active_plan"),
            p.c.needs_review,
            pd.c.oldest_due,
            select(func.max(ob.c.step))
            .where(ob.c.patient_id == p.c.id, ob.c.episode == pd.c.oldest_due,
                   ob.c.status.in_(DONE))
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
                telegram_opted_out=bool(r.telegram_opted_out),
                timezone=r.timezone,
                state=r.state,
                open_dispute=bool(r.open_dispute),
                active_plan=bool(r.active_plan),
                needs_review=bool(r.needs_review),
                oldest_due=_date(r.oldest_due),
                reminded_step=r.reminded_step,
                last_contact_at=_aware(r.last_contact),
                has_email=bool(r.has_email),
                email_consent=bool(r.email_consent),
                email_opted_out=bool(r.email_opted_out),
                email_failing=bool(r.email_failing),
            )


def _date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
