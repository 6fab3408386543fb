"""The reminder SQL states the allocation rule for speed; here it is held to the Python rule
(billing.core.balances) on generated ledgers, on SQLite and on PostgreSQL: every account's oldest
open due date and the set of accounts past due at several cutoffs agree."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from billing.accounts import line_item
from billing.core.balances import compute_balance
from billing.core.ledger import ClaimStatus, EntryType
from billing.db.models import LedgerEntry
from bot.reminders.select import past_due_query
from tests.dialogue_factories import add_patient

_ids = itertools.count(1)
BASE = date(2025, 1, 1)
CUTOFFS = (date(2025, 3, 1), date(2025, 6, 1), date(2025, 9, 1), date(2030, 1, 1))

_day = st.integers(0, 240).map(lambda n: BASE + timedelta(days=n))
_charge = st.tuples(
    st.just(EntryType.CHARGE), st.integers(1, 50000), st.sampled_from([None, "A", "B", "C"]),
    st.sampled_from(list(ClaimStatus)), st.one_of(st.none(), _day), _day, _day,
)
_other = st.tuples(
    st.sampled_from([t for t in EntryType if t is not EntryType.CHARGE]), st.integers(1, 50000),
    st.sampled_from([None, None, "A", "B", "C", "Z"]), st.none(), st.none(), st.none(), _day,
)
_ledger = st.lists(st.one_of(_charge, _other), min_size=1, max_size=10)


def _insert(session: Session, rows) -> int:
    patient = add_patient(session)
    values = [
        {"entry_id": f"G{next(_ids)}", "patient_id": patient.id, "type": kind.value,
         "amount_cents": amount, "claim_id": claim,
         "claim_status": status.value if status else None, "due_date": due,
         "service_date": served, "posted_date": posted, "reminders_paused": False}
        for kind, amount, claim, status, due, served, posted in rows
    ]
    session.execute(insert(LedgerEntry), values)
    return patient.id


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ledger, min_size=1, max_size=4))
def test_reminder_sql_agrees_with_the_allocation_rule(session, ledgers):
    ids = [_insert(session, rows) for rows in ledgers]
    session.flush()
    expected = {}
    for pid in ids:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.patient_id == pid)).all()
        b = compute_balance(line_item(e) for e in entries)
        open_dues = [v.due_date for v in b.visits if v.remaining > 0 and v.due_date]
        assert b.due_date == (min(open_dues) if open_dues else None)
        expected[pid] = b.due_date
    for cutoff in CUTOFFS:
        pd = past_due_query(cutoff)
        got = {r.patient_id: _as_date(r.oldest_due)
               for r in session.execute(select(pd).where(pd.c.patient_id.in_(ids)))}
        want = {pid: due for pid, due in expected.items() if due is not None and due <= cutoff}
        assert got == want, cutoff
    session.rollback()


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
