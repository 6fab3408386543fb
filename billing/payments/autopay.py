"""Autopay of payment plans: the patient saves a payment method on a hosted setup page
(offer_setup; the processor's completed-setup event activates the mandate), and
charge_due_installments charges each installment off-session on its due date.

Exactly once, across restarts and several workers: an attempt is a row claimed (inserted,
unique per installment and attempt, committed) before the processor is called, and carries
an idempotency key of its own. A run that dies after the processor took the charge leaves the
row 'charging'; a later run re-sends that very request (same key) once the claim is stale, and
the processor answers with the charge it already made instead of making another. A decline
or a bank asking for authentication sends the patient a link for that installment; the next
attempt follows the clinic's retry days; past them the plan is delinquent and a
representative is told."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import load_items
from billing.core.balances import compute_balance
from billing.core.money import Cents
from billing.core.sender_key import SenderKey
from billing.db.models import Patient
from billing.errors import RequestError
from billing.escalations.enums import EscalationReason
from billing.escalations.service import escalate
from billing.payment_plans.enums import InstallmentStatus, PlanStatus
from billing.payment_plans.models import PaymentPlan, PlanInstallment
from billing.payments import notices
from billing.payments.checkout import OpenedPage, PageSettings, open_page
from billing.payments.enums import FAILED, ChargeStatus, CheckoutStatus, MandateStatus, Purpose
from billing.payments.models import AutopayMandate, Checkout, InstallmentCharge
from billing.payments.notices import Notice
from billing.payments.posting import post_processor_payment
from billing.payments.processor import (
    ChargeOutcome,
    Event,
    PaymentProcessor,
    ProcessorError,
    ProcessorUnavailable,
)

ACTOR = "autopay"


@dataclass(frozen=True)
class AutopayPolicy:
    """retry_days[i]: days after failed attempt i+1 until the next; after len(retry_days)+1
    failed attempts at one installment the plan is delinquent."""

    retry_days: tuple[int, ...] = (3, 7)
    stale_claim: timedelta = timedelta(minutes=10)

    @classmethod
    def parse(cls, retry_days: str, stale_minutes: float = 10.0) -> AutopayPolicy:
        """From AUTOPAY_RETRY_DAYS ('3,7'; empty: no retry)."""
        try:
            days = tuple(int(p) for p in retry_days.replace(" ", "").split(",") if p)
        except ValueError:
            raise ValueError(f"AUTOPAY_RETRY_DAYS {retry_days!r}: whole days, e.g. 3,7") from None
        if any(d < 1 for d in days):
            raise ValueError("AUTOPAY_RETRY_DAYS: each retry is at least 1 day later")
        return cls(days, timedelta(minutes=stale_minutes))


# -- the mandate ---------------------------------------------------------------------------
def offer_setup(*, session: Session, processor: PaymentProcessor, plan_id: int,
                sender_key: str, now: datetime, page: PageSettings) -> OpenedPage:
    """A hosted setup page for a plan's autopay, and its mandate (pending until the
    processor reports the method saved)."""
    plan = session.get(PaymentPlan, plan_id)
    if plan is None or plan.status != PlanStatus.ACTIVE:
        raise RequestError("no active plan to pay automatically")
    patient = session.get(Patient, plan.patient_id)
    assert patient is not None
    existing = session.scalars(select(AutopayMandate).where(AutopayMandate.plan_id == plan_id)).first()
    if existing is not None and existing.status == MandateStatus.ACTIVE:
        raise RequestError("autopay is already on for this plan")
    customer = existing.customer_ref if existing is not None else processor.create_customer(
        account_number=patient.account_number, idempotency_key=f"billbot-customer-plan-{plan_id}")
    opened = open_page(session=session, processor=processor, patient_id=plan.patient_id,
                       amount=Cents(0), purpose=Purpose.SETUP, installment=None,
                       sender_key=sender_key, now=now, page=page, customer_ref=customer,
                       plan_id=plan_id)
    if existing is None:
        session.add(AutopayMandate(plan_id=plan_id, patient_id=plan.patient_id,
                                   processor=processor.name, sender_key=sender_key,
                                   customer_ref=customer, setup_ref=opened.checkout.session_ref,
                                   status=MandateStatus.PENDING, created_at=now))
    else:
        existing.setup_ref, existing.sender_key = opened.checkout.session_ref, sender_key
        existing.status, existing.stopped_at = MandateStatus.PENDING, None
    session.flush()
    return opened


def activate(*, session: Session, processor: PaymentProcessor, checkout: Checkout,
             event: Event, now: datetime) -> tuple[str, list[Notice]]:
    """A completed setup page: the mandate gets its saved method and is on."""
    mandate = session.scalars(select(AutopayMandate)
                              .where(AutopayMandate.setup_ref == checkout.session_ref)).first()
    if mandate is None or mandate.status != MandateStatus.PENDING or not event.setup_ref:
        return "unchanged", []
    saved = processor.saved_method(event.setup_ref)
    mandate.method_ref, mandate.customer_ref = saved.method_ref, saved.customer_ref
    mandate.status, mandate.activated_at = MandateStatus.ACTIVE, now
    checkout.status, checkout.completed_at = CheckoutStatus.COMPLETED, now
    audit.record(session, processor.name, "autopay_on", mandate.patient_id, at=now,
                 plan=mandate.plan_id)
    session.flush()
    return "autopay_on", [Notice(mandate.sender_key, (notices.autopay_on(),))]


def stop_autopay(*, session: Session, patient_id: int, now: datetime) -> int:
    """The patient's "stop autopay": every mandate of the account is stopped; how many."""
    mandates = list(session.scalars(select(AutopayMandate).where(
        AutopayMandate.patient_id == patient_id,
        AutopayMandate.status != MandateStatus.STOPPED)))
    for mandate in mandates:
        mandate.status, mandate.stopped_at = MandateStatus.STOPPED, now
        audit.record(session, "patient", "autopay_off", patient_id, at=now, plan=mandate.plan_id)
    session.flush()
    return len(mandates)


# -- the charge run ------------------------------------------------------------------------
@dataclass
class AutopayReport:
    charged: int = 0
    declined: int = 0
    action_required: int = 0
    delinquent: int = 0
    unknown: int = 0  # no answer from the processor: re-sent (same key) by a later run
    resent: int = 0  # stale claims of an earlier run sent again
    notices: list[Notice] = field(default_factory=list)
    paid_patients: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Claim:
    charge_id: int
    installment_id: int
    patient_id: int
    amount: Cents
    key: str
    customer_ref: str
    method_ref: str
    sender_key: str


def charge_due_installments(*, engine: Engine, processor: PaymentProcessor, now: datetime,
                            today: date, policy: AutopayPolicy, page: PageSettings,
                            posted: Callable[[datetime], date] | None = None) -> AutopayReport:
    """One autopay run at `now` (aware): re-send stale claims, then claim and charge every
    installment due by `today` whose time has come. `posted` gives a result's ledger date."""
    report = AutopayReport()
    posted = posted or (lambda _moment: today)
    for claim in _stale_claims(engine, now, policy):
        report.resent += 1
        _charge(engine, processor, claim, now, today, policy, page, report, posted)
    for installment_id, attempt in _due(engine, now, today):
        claim = _claim(engine, processor, installment_id, attempt, now)
        if claim is not None:
            _charge(engine, processor, claim, now, today, policy, page, report, posted)
    return report


def _key(installment_id: int, attempt: int) -> str:
    return f"billbot-installment-{installment_id}-attempt-{attempt}"


def _due(engine: Engine, now: datetime, today: date) -> list[tuple[int, int]]:
    """(installment id, next attempt number) of each installment to charge now."""
    found: list[tuple[int, int]] = []
    with Session(engine) as s:
        rows = s.execute(
            select(PlanInstallment.id)
            .join(PaymentPlan, PaymentPlan.id == PlanInstallment.plan_id)
            .join(AutopayMandate, AutopayMandate.plan_id == PaymentPlan.id)
            .where(PlanInstallment.status != InstallmentStatus.PAID,
                   PlanInstallment.due_date <= today, PaymentPlan.status == PlanStatus.ACTIVE,
                   AutopayMandate.status == MandateStatus.ACTIVE)
            .order_by(PlanInstallment.due_date, PlanInstallment.id)).scalars().all()
        for installment_id in rows:
            attempts = s.scalars(select(InstallmentCharge).where(
                InstallmentCharge.installment_id == installment_id)
                .order_by(InstallmentCharge.attempt)).all()
            if any(a.status not in FAILED for a in attempts):
                continue  # charging now, or already charged
            last = attempts[-1] if attempts else None
            if last is not None and (last.retry_at is None or _aware(last.retry_at) > now):
                continue
            found.append((installment_id, (last.attempt + 1) if last else 1))
    return found


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _claim(engine: Engine, processor: PaymentProcessor, installment_id: int, attempt: int,
           now: datetime) -> _Claim | None:
    """Insert the attempt's row (committed before any request); None if another run has it
    or nothing is owed any more."""
    try:
        with Session(engine) as s, s.begin():
            inst = s.get(PlanInstallment, installment_id)
            if inst is None or inst.status == InstallmentStatus.PAID:
                return None
            mandate = s.scalars(select(AutopayMandate).where(
                AutopayMandate.plan_id == inst.plan_id,
                AutopayMandate.status == MandateStatus.ACTIVE)).first()
            if mandate is None or not mandate.method_ref:
                return None
            due_now = compute_balance(load_items(s, mandate.patient_id)).due_now
            amount = Cents(min(inst.amount_cents, due_now))
            if amount <= 0:
                return None
            row = InstallmentCharge(installment_id=inst.id, plan_id=inst.plan_id,
                                    patient_id=mandate.patient_id, attempt=attempt,
                                    amount_cents=amount, idempotency_key=_key(inst.id, attempt),
                                    status=ChargeStatus.CHARGING, claimed_at=now)
            s.add(row)
            s.flush()
            return _Claim(row.id, inst.id, mandate.patient_id, amount, row.idempotency_key,
                          mandate.customer_ref, mandate.method_ref, mandate.sender_key)
    except IntegrityError:
        return None  # another worker inserted this attempt first


def _stale_claims(engine: Engine, now: datetime, policy: AutopayPolicy) -> list[_Claim]:
    """'charging' rows older than the stale window, re-claimed by moving claimed_at (one
    winner among several workers)."""
    claims: list[_Claim] = []
    with Session(engine) as s:
        stale = s.execute(
            select(InstallmentCharge, AutopayMandate)
            .join(AutopayMandate, AutopayMandate.plan_id == InstallmentCharge.plan_id)
            .where(InstallmentCharge.status == ChargeStatus.CHARGING,
                   InstallmentCharge.claimed_at < now - policy.stale_claim)).all()
        rows = [(c.id, c.claimed_at, c.installment_id, c.patient_id, c.amount_cents,
                 c.idempotency_key, m.customer_ref, m.method_ref, m.sender_key)
                for c, m in stale]
    for cid, claimed_at, inst_id, pid, amount, key, customer, method, sender in rows:
        with Session(engine) as s, s.begin():
            won = s.execute(update(InstallmentCharge)
                            .where(InstallmentCharge.id == cid,
                                   InstallmentCharge.status == ChargeStatus.CHARGING,
                                   InstallmentCharge.claimed_at == claimed_at)
                            .values(claimed_at=now)).rowcount
        if won == 1 and method:
            claims.append(_Claim(cid, inst_id, pid, Cents(amount), key, customer, method, sender))
    return claims


def _charge(engine: Engine, processor: PaymentProcessor, claim: _Claim, now: datetime,
            today: date, policy: AutopayPolicy, page: PageSettings, report: AutopayReport,
            posted: Callable[[datetime], date]) -> None:
    try:
        outcome = processor.charge_saved(
            amount=claim.amount, customer_ref=claim.customer_ref, method_ref=claim.method_ref,
            idempotency_key=claim.key, descriptor=page.descriptor,
            metadata={"installment": str(claim.installment_id), "charge": str(claim.charge_id),
                      "purpose": "autopay"})
    except ProcessorUnavailable:
        report.unknown += 1
        return  # stays 'charging': re-sent with the same key once stale
    except ProcessorError as err:
        outcome = ChargeOutcome("declined", None, str(err))
    with Session(engine) as s, s.begin():
        record_outcome(session=s, processor=processor, charge_id=claim.charge_id,
                       outcome=outcome, now=now, posted=posted(now), policy=policy, page=page,
                       report=report)


def record_outcome(*, session: Session, processor: PaymentProcessor, charge_id: int,
                   outcome: ChargeOutcome, now: datetime, posted: date, policy: AutopayPolicy,
                   page: PageSettings, report: AutopayReport) -> None:
    """What the processor said about one attempt, into the ledger, the plan and notices."""
    charge = session.get(InstallmentCharge, charge_id)
    if charge is None or charge.status != ChargeStatus.CHARGING:
        return
    mandate = session.scalars(select(AutopayMandate)
                              .where(AutopayMandate.plan_id == charge.plan_id)).one()
    charge.payment_ref = outcome.payment_ref or charge.payment_ref
    if outcome.status == "processing":
        return  # the processor's payment_succeeded event finishes it
    charge.finished_at, charge.error_code = now, outcome.error_code
    if outcome.status == "succeeded" and outcome.payment_ref:
        charge.status = ChargeStatus.SUCCEEDED
        done = post_processor_payment(session=session, processor=processor.name,
                                      patient_id=charge.patient_id,
                                      amount=Cents(charge.amount_cents),
                                      payment_ref=outcome.payment_ref, posted=posted, now=now,
                                      installment_id=charge.installment_id)
        report.charged += 1
        if done is not None:
            report.paid_patients.append(charge.patient_id)
            report.notices.append(Notice(mandate.sender_key, (
                notices.receipt(done.amount, done.due_now, done.credit),)))
        return
    action = outcome.status == "action_required"
    charge.status = ChargeStatus.ACTION_REQUIRED if action else ChargeStatus.DECLINED
    report.action_required += action
    report.declined += not action
    failures = _failures(session, charge.installment_id)
    if failures <= len(policy.retry_days):
        charge.retry_at = now + timedelta(days=policy.retry_days[failures - 1])
    texts = [notices.charge_failed(Cents(charge.amount_cents),
                                   _installment_link(session, processor, charge, mandate, now, page),
                                   action)]
    if charge.retry_at is None:
        plan = session.get(PaymentPlan, charge.plan_id)
        assert plan is not None
        plan.status = PlanStatus.DELINQUENT
        key = SenderKey.parse(mandate.sender_key)
        escalate(session=session, sender_key=mandate.sender_key, channel=key.channel,
                 patient_id=charge.patient_id, reason=EscalationReason.AUTOPAY_FAILED, now=now)
        audit.record(session, ACTOR, "plan_delinquent", charge.patient_id, at=now,
                     plan=plan.id, failures=failures)
        texts.append(notices.delinquent())
        report.delinquent += 1
    audit.record(session, ACTOR, "installment_charge_failed", charge.patient_id, at=now,
                 installment=charge.installment_id, attempt=charge.attempt,
                 code=outcome.error_code or "")
    report.notices.append(Notice(mandate.sender_key, tuple(texts)))
    session.flush()


def _failures(session: Session, installment_id: int) -> int:
    return len(session.scalars(select(InstallmentCharge.id).where(
        InstallmentCharge.installment_id == installment_id,
        InstallmentCharge.status.in_(FAILED))).all())


def _installment_link(session: Session, processor: PaymentProcessor, charge: InstallmentCharge,
                      mandate: AutopayMandate, now: datetime, page: PageSettings) -> str | None:
    """A page to pay the installment by hand (None if the processor will not make one)."""
    inst = session.get(PlanInstallment, charge.installment_id)
    try:
        with session.begin_nested():
            opened = open_page(session=session, processor=processor,
                               patient_id=charge.patient_id, amount=Cents(charge.amount_cents),
                               purpose=Purpose.INSTALLMENT, installment=inst,
                               sender_key=mandate.sender_key, now=now, page=page)
    except (ProcessorError, RequestError):
        return None
    return opened.url


def finish_processing(*, session: Session, processor: PaymentProcessor, event: Event,
                      now: datetime, posted: date) -> tuple[str, list[Notice], list[int]]:
    """A payment_succeeded event for an off-session charge (one that answered 'processing',
    or whose run died): the attempt succeeds, posted once."""
    charge = session.scalars(select(InstallmentCharge)
                             .where(InstallmentCharge.payment_ref == event.payment_ref)).first()
    if charge is None and event.metadata.get("charge", "").isdigit():
        charge = session.get(InstallmentCharge, int(event.metadata["charge"]))
    if charge is None or charge.status != ChargeStatus.CHARGING:
        return "unchanged", [], []
    report = AutopayReport()
    record_outcome(session=session, processor=processor, charge_id=charge.id,
                   outcome=ChargeOutcome("succeeded", event.payment_ref), now=now,
                   posted=posted, policy=AutopayPolicy(), page=PageSettings(0, "", "", ""),
                   report=report)
    return "posted", report.notices, report.paid_patients
