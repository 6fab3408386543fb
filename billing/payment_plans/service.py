"""Every write of a payment plan: the patient's (the bot offers a schedule, the patient
accepts it), the representative's (a plan over what is due now), the demo's (plans already
part paid). The caller owns the transaction."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.core.money import Cents, fmt
from billing.core.plans import schedule
from billing.errors import RequestError
from billing.payment_plans.enums import InstallmentStatus, PlanStatus
from billing.payment_plans.models import PaymentPlan, PlanInstallment


class PlanExists(RequestError):
    """The account already has an active payment plan."""


def create_plan(
    *,
    session: Session,
    patient_id: int,
    total: Cents,
    installments: list[tuple[int, date, Cents]],
    created_by: str = "patient",
    paid: int = 0,
    created_at: datetime | None = None,
) -> PaymentPlan:
    """A payment plan and its installments (seq, due date, amount); they must sum to total.
    The first `paid` installments are recorded as paid (a plan completed when all are)."""
    if not installments:
        raise RequestError("a plan needs at least one installment")
    if sum(amount for _, _, amount in installments) != total:
        raise RequestError("installments do not add up to the plan total")
    active = session.scalars(
        select(PaymentPlan.id).where(
            PaymentPlan.patient_id == patient_id, PaymentPlan.status == PlanStatus.ACTIVE
        )
    ).first()
    if active is not None:
        raise PlanExists("this account already has an active payment plan")
    plan = PaymentPlan(
        patient_id=patient_id,
        total_cents=total,
        monthly_cents=max(amount for _, _, amount in installments),
        months=len(installments),
        start_date=min(due for _, due, _ in installments),
        status=PlanStatus.COMPLETED if paid >= len(installments) else PlanStatus.ACTIVE,
        created_by=created_by,
    )
    if created_at is not None:
        plan.created_at = created_at
    session.add(plan)
    session.flush()
    for seq, due, amount in installments:
        session.add(PlanInstallment(
            plan_id=plan.id, seq=seq, due_date=due, amount_cents=amount,
            status=InstallmentStatus.PAID if seq <= paid else InstallmentStatus.SCHEDULED,
        ))
    session.flush()
    return plan


def set_up_plan(
    *,
    session: Session,
    patient_id: int,
    months: int,
    first_due: date,
    created_by: str,
    today: date,
    max_months: int,
    min_monthly: Cents,
) -> PaymentPlan:
    """A representative's plan over what is due now, split into `months` installments."""
    if not 1 <= months <= max_months:
        raise RequestError(f"a plan runs 1 to {max_months} months")
    if first_due < today:
        raise RequestError("the first installment cannot be due in the past")
    due_now = compute_balance(load_items(session, patient_id)).due_now
    if due_now <= 0:
        raise RequestError("nothing is due on this account")
    installments = schedule(due_now, months, first_due)
    if months > 1 and min(i.amount for i in installments) < min_monthly:
        raise RequestError(f"installments would fall under the {fmt(min_monthly)} minimum")
    return create_plan(
        session=session, patient_id=patient_id, total=due_now,
        installments=[(i.seq, i.due_date, i.amount) for i in installments],
        created_by=created_by,
    )
