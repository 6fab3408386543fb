"""Promises that have passed: the patient hears a late refund, a late insurer decision and a
late dispute answer as late, with what happens next, and never a past date as an expectation."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.base import Turn
from actions.disputes import DisputeCharge
from actions.insurance import InsuranceCoverage
from actions.refunds import RefundStatusAction
from billing.accounts import find_by_account_number, load_snapshot
from billing.core.balances import compute_balance
from billing.core.ledger import RefundRecord, RefundStatus
from billing.core.promises import OpenCase, PromisePolicy, late_promises
from billing.db.engine import make_engine
from billing.disputes.service import open_dispute
from billing.importer import import_sources, sources_from_paths
from clinic.settings import Settings

FIXTURE = Path(__file__).parents[1] / "fixtures" / "clinic_alloc"
SENDER = "web:6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{1,2}), (\d{4})")


def _said(session, action, account: str, now: datetime) -> str:
    tracker = Tracker(SENDER, {}, {"text": "?", "intent": {"name": "x", "confidence": 0.9},
                                   "entities": []}, [], False, None, {}, None)
    turn = Turn(CollectingDispatcher(), tracker, session, Settings(), now)
    action.answer(turn, load_snapshot(session, find_by_account_number(session, account).id))
    return " ".join(m["text"] for m in turn.dispatcher.messages)


def _expectations(text: str) -> list[date]:
    """Dates the text gives as still to come ('expected by', 'expect it by')."""
    found = []
    for m in re.finditer(r"expect(?:ed)? (?:it )?by " + _DATE.pattern, text):
        found.append(datetime.strptime(" ".join(m.groups()[-3:]), "%b %d %Y").date())  # noqa: DTZ007
    return found


def _load(url: str) -> None:
    eng = make_engine(url)
    with Session(eng) as s, s.begin():
        import_sources(s, sources_from_paths([FIXTURE]), now=datetime(2026, 11, 1, tzinfo=UTC))
    eng.dispose()


def test_a_refund_past_its_date_is_told_as_late_with_what_happens_next(db_url):
    _load(db_url)
    eng = make_engine(db_url)
    with Session(eng) as s:
        before = _said(s, RefundStatusAction(), "A502", datetime(2026, 10, 28, 15, tzinfo=UTC))
        after = _said(s, RefundStatusAction(), "A502", datetime(2026, 12, 1, 15, tzinfo=UTC))
    eng.dispose()
    assert "expected by Nov 3, 2026" in before and "late" not in before
    assert "requested Oct 20, 2026" in after and "It is late: we expected it by Nov 3, 2026" in after
    assert "billing team" in after and "AGENT" in after
    assert "expected by Nov 3, 2026." not in after.replace("we expected it by", "")


def test_a_claim_past_its_decision_date_is_told_as_late(db_url):
    _load(db_url)
    eng = make_engine(db_url)
    with Session(eng) as s:
        # C503 was posted Nov 12, 2026: a decision is expected 45 days later, Dec 27.
        on_time = _said(s, InsuranceCoverage(), "A500", datetime(2026, 12, 1, 15, tzinfo=UTC))
        late = _said(s, InsuranceCoverage(), "A500", datetime(2027, 1, 4, 15, tzinfo=UTC))
    eng.dispose()
    assert "longer than usual" not in on_time
    assert "longer than usual (we expected a decision by Dec 27, 2026)" in late
    assert "following up with your insurer" in late


def test_a_dispute_past_its_answer_date_is_told_as_late(db_url):
    _load(db_url)
    eng = make_engine(db_url)
    opened = datetime(2026, 10, 1, 15, tzinfo=UTC)
    with Session(eng) as s, s.begin():
        pid = find_by_account_number(s, "A500").id
        open_dispute(session=s, patient_id=pid, entry_ids=[], summary="patient_questioned",
                     amount=3600, now=opened, findings={})
    with Session(eng) as s:
        said = _said(s, DisputeCharge(), "A500", opened + timedelta(days=61))
    eng.dispose()
    assert "we expected to answer it by Oct 31, 2026" in said and "late" in said


def test_no_past_date_is_ever_given_as_an_expectation(db_url):
    _load(db_url)
    eng = make_engine(db_url)
    with Session(eng) as s:
        for day in (date(2026, 10, 21), date(2026, 11, 3), date(2026, 11, 4), date(2027, 3, 1)):
            now = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
            for action, account in ((RefundStatusAction(), "A502"), (InsuranceCoverage(), "A500")):
                said = _said(s, action, account, now).replace("we expected", "")
                assert all(d >= day for d in _expectations(said)), (day, said)
    eng.dispose()


def test_late_promises_are_findings_for_representatives():
    refund = RefundRecord("R1", 3000, RefundStatus.APPROVED, date(2026, 10, 20))
    found = late_promises(compute_balance([]), [refund], [OpenCase("D1", date(2026, 9, 1), 500)],
                          PromisePolicy(), date(2026, 12, 1))
    assert [(f.kind, f.amount, f.for_patient) for f in found] == [
        ("refund_late", 3000, False), ("dispute_late", 500, False)]
    assert late_promises(compute_balance([]), [refund], [], PromisePolicy(),
                         date(2026, 11, 3)) == []
