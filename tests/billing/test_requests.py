"""Requests a patient makes through the assistant, as rows a representative will act on."""
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from billing.core.ledger import RefundRecord, RefundStatus
from billing.core.promises import add_business_days, expected_refund_date
from billing.db.models import LedgerEntry
from billing.disputes.models import DisputeItem
from billing.disputes.service import open_dispute
from billing.errors import RequestError
from billing.escalations.models import Escalation
from billing.escalations.service import escalate
from billing.insurance_changes.service import record_insurance_change
from billing.payment_plans.service import PlanExists, create_plan
from billing.refunds.models import RefundEvent
from billing.refunds.service import request_refund
from tests.dialogue_factories import add_entry, add_patient

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)


def test_dispute_gets_a_reference_and_pauses_reminders_on_its_lines(session):
    p = add_patient(session)
    a = add_entry(session, p, "charge", 12000, entry_id="C-1")
    b = add_entry(session, p, "charge", 12000, entry_id="C-2")
    other = add_entry(session, p, "charge", 5000, entry_id="C-3")
    d = open_dispute(session=session, patient_id=p.id, entry_ids=["C-1", "C-2"],
                     summary="possible duplicate", amount=12000, now=NOW,
                     findings={"C-2": "duplicate_charge"})
    assert d.reference.startswith("D-") and len(d.reference) == 8
    session.expire_all()
    paused = {e.entry_id: e.reminders_paused for e in session.scalars(select(LedgerEntry))}
    assert paused == {"C-1": True, "C-2": True, "C-3": False}
    items = session.scalars(select(DisputeItem).where(DisputeItem.dispute_id == d.id)).all()
    assert {(i.entry_id, i.finding) for i in items} == {(a.id, None), (b.id, "duplicate_charge")}
    assert other.id not in {i.entry_id for i in items}


def test_dispute_ignores_lines_of_another_account(session):
    p = add_patient(session)
    q = add_patient(session)
    add_entry(session, q, "charge", 1000, entry_id="Q-1")
    d = open_dispute(session=session, patient_id=p.id, entry_ids=["Q-1"], summary="x",
                     amount=0, now=NOW)
    assert d.items == [] and not session.scalars(select(LedgerEntry)).one().reminders_paused


def test_refund_request_is_recorded_as_requested_by_the_patient(session):
    p = add_patient(session)
    r = request_refund(session=session, patient_id=p.id, amount=4550, today=date(2025, 6, 2))
    assert (r.status, r.source, r.amount_cents) == ("requested", "patient", 4550)
    events = session.scalars(select(RefundEvent).where(RefundEvent.refund_id == r.id)).all()
    assert [(e.status, e.actor) for e in events] == [("requested", "patient")]
    with pytest.raises(RequestError):
        request_refund(session=session, patient_id=p.id, amount=4550, today=date(2025, 6, 2))
    with pytest.raises(RequestError):
        request_refund(session=session, patient_id=add_patient(session).id, amount=0, today=date(2025, 6, 2))


def test_plan_rows_match_the_schedule_and_only_one_plan_is_active(session):
    p = add_patient(session)
    schedule = [(1, date(2025, 7, 1), 10000), (2, date(2025, 8, 1), 10000),
                (3, date(2025, 9, 1), 5050)]
    plan = create_plan(session=session, patient_id=p.id, total=25050, installments=schedule)
    assert (plan.total_cents, plan.monthly_cents, plan.months, plan.start_date) == (
        25050, 10000, 3, date(2025, 7, 1))
    session.refresh(plan)
    assert [(i.seq, i.due_date, i.amount_cents) for i in plan.installments] == schedule
    with pytest.raises(PlanExists):
        create_plan(session=session, patient_id=p.id, total=25050, installments=schedule)
    with pytest.raises(RequestError):
        create_plan(session=session, patient_id=add_patient(session).id, total=25000, installments=schedule)


def test_insurance_change_is_pending_and_validated(session):
    p = add_patient(session)
    change = record_insurance_change(session=session, patient_id=p.id, payer="  Blue  Shield ", member_id="xyz-12345")
    assert (change.payer, change.member_id, change.status) == ("Blue Shield", "XYZ-12345", "pending")
    for payer, member in [("", "ABC123"), ("Aetna", "1"), ("Aetna", "12 34; drop")]:
        with pytest.raises(RequestError):
            record_insurance_change(session=session, patient_id=p.id, payer=payer, member_id=member)


def test_escalations_are_reused_per_sender_and_raised_in_priority(session):
    e1 = escalate(session=session, sender_key="sms:+15551230000", channel="sms", reason="low_confidence", now=NOW)
    assert e1.priority == 3
    e2 = escalate(session=session, sender_key="sms:+15551230000", channel="sms", reason="frustration", now=NOW)
    assert e2.id == e1.id and e2.priority == 1
    e3 = escalate(session=session, sender_key="web:x", channel="web", reason="request_human", now=NOW)
    assert e3.id != e1.id
    assert len(session.scalars(select(Escalation)).all()) == 2
    with pytest.raises(RequestError):
        escalate(session=session, sender_key="web:x", channel="web", reason="bored", now=NOW)


def test_expected_refund_date_uses_issue_date_or_business_days():
    assert add_business_days(date(2025, 6, 6), 1) == date(2025, 6, 9)  # Friday -> Monday
    requested = RefundRecord("R1", 500, RefundStatus.APPROVED, date(2025, 6, 2))
    assert expected_refund_date(requested, 10) == date(2025, 6, 16)
    issued = RefundRecord("R2", 500, RefundStatus.ISSUED, date(2025, 6, 2), date(2025, 6, 4))
    assert expected_refund_date(issued, 10) == date(2025, 6, 4)
    rejected = RefundRecord("R3", 500, RefundStatus.REJECTED, date(2025, 6, 2))
    assert expected_refund_date(rejected, 10) is None
