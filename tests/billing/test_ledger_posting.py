"""Single ledger lines go through billing.ledger_posting.post_line: a payment and a dispute's
adjustment are lines like any other, with their own id prefix."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from billing.accounts import post_payment
from billing.core.ledger import EntryType
from billing.db.models import LedgerEntry
from billing.disputes.service import open_dispute, resolve_dispute
from billing.ledger_posting import post_line
from tests.dialogue_factories import add_entry, add_patient

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def test_a_posted_line_is_stored_as_given(session):
    p = add_patient(session)
    line = post_line(session=session, patient_id=p.id, type=EntryType.PATIENT_ADJUSTMENT,
                     amount=1250, posted_date=date(2026, 3, 4), claim_id="C1",
                     description="Courtesy adjustment")
    session.expire_all()
    stored = session.scalars(select(LedgerEntry)).one()
    assert stored.id == line.id and stored.entry_id.startswith("ADJ-")
    assert (stored.type, stored.amount_cents, stored.claim_id, stored.description) == (
        "patient_adjustment", 1250, "C1", "Courtesy adjustment")


@pytest.mark.parametrize("amount", [0, -1, True, 12.5])
def test_a_line_is_a_positive_whole_number_of_cents(session, amount):
    p = add_patient(session)
    with pytest.raises(ValueError):
        post_line(session=session, patient_id=p.id, type=EntryType.PATIENT_PAYMENT,
                  amount=amount, posted_date=date(2026, 3, 4))
    assert session.scalars(select(LedgerEntry)).all() == []


def test_a_payment_is_a_posted_line(session):
    p = add_patient(session)
    entry = post_payment(session=session, patient_id=p.id, amount=2000, method="card",
                         on=date(2026, 3, 4))
    assert entry.entry_id.startswith("PAY-")
    assert (entry.type, entry.method, entry.posted_date) == (
        "patient_payment", "card", date(2026, 3, 4))


def test_a_dispute_adjustment_is_a_posted_line_on_the_disputed_claim(session):
    p = add_patient(session)
    add_entry(session, p, "charge", 20000, entry_id="C-1", claim_id="CL9")
    ref = open_dispute(session=session, patient_id=p.id, entry_ids=["C-1"], summary="twice",
                       amount=5000, now=NOW).reference
    resolve_dispute(session=session, patient_id=p.id, reference=ref, adjustment=5000,
                    resolution="duplicate removed", today=date(2026, 3, 4), now=NOW)
    adj = session.scalars(
        select(LedgerEntry).where(LedgerEntry.type == "patient_adjustment")).one()
    assert adj.entry_id.startswith("ADJ-")
    assert (adj.amount_cents, adj.claim_id, adj.description) == (
        5000, "CL9", f"Dispute {ref} adjustment")
