"""What the patient hears once the clinic imported its own price list and contracts: estimates
from the clinic's prices, and of the discrepancy findings only those that concern them."""
from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

import actions.disputes
from actions.base import Turn
from actions.disputes import DisputeCharge
from actions.insurance import InsuranceCoverage
from billing.accounts import find_by_account_number, load_snapshot
from billing.core.discrepancies import Finding
from billing.db.engine import make_engine
from billing.importer import import_sources, sources_from_paths
from clinic.settings import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2024, 6, 30, 15, 0, tzinfo=UTC)
SENDER = "web:6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"


def load(url: str, tmp_path: Path, *, prices: bool) -> None:
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "clinic_small", export)
    if prices:
        for f in (FIXTURES / "clinic_prices").iterdir():
            shutil.copy(f, export / f.name)
    eng = make_engine(url)
    with Session(eng) as s, s.begin():
        import_sources(s, sources_from_paths([export]), now=NOW)
    eng.dispose()


def answer(session, action, account: str, text: str, entities=()) -> str:
    tracker = Tracker(SENDER, {}, {"text": text, "intent": {"name": "x", "confidence": 0.9},
                                   "entities": list(entities)}, [], False, None, {}, None)
    turn = Turn(CollectingDispatcher(), tracker, session, Settings(), NOW)
    action.answer(turn, load_snapshot(session, find_by_account_number(session, account).id))
    return " ".join(m["text"] for m in turn.dispatcher.messages)


@pytest.mark.parametrize("prices,list_price", [(False, "$175.00"), (True, "$180.00")])
def test_estimates_use_the_clinics_own_price_list_once_imported(db_url, tmp_path, prices,
                                                                list_price):
    load(db_url, tmp_path, prices=prices)
    eng = make_engine(db_url)
    with Session(eng) as s:
        said = answer(s, InsuranceCoverage(), "A102", "how much is 99213",
                      [{"entity": "service", "value": "99213"}])
    eng.dispose()
    assert f"list price {list_price}" in said  # shipped demo list: 175.00; the clinic's: 180.00


def test_a_disputing_patient_hears_only_what_concerns_them(db_url, tmp_path):
    load(db_url, tmp_path, prices=True)
    eng = make_engine(db_url)
    with Session(eng) as s:
        said = answer(s, DisputeCharge(), "A101", "this bill is wrong")
    eng.dispose()
    assert "your plan terms allow at most $30.00" in said  # share_above_terms
    assert "chargemaster" not in said and "Claim C200" not in said


def test_representative_findings_are_never_told_to_the_patient(db_url, tmp_path, monkeypatch):
    load(db_url, tmp_path, prices=False)
    rep_only = Finding("payer_underpayment", ("E3001",), 1000, "PAYER-ONLY TEXT",
                       for_patient=False)
    real = actions.disputes.find_discrepancies
    monkeypatch.setattr(actions.disputes, "find_discrepancies",
                        lambda *a, **k: [*real(*a, **k), rep_only])
    eng = make_engine(db_url)
    with Session(eng) as s:
        said = answer(s, DisputeCharge(), "A102", "charged twice")
    eng.dispose()
    assert "PAYER-ONLY TEXT" not in said and "$70.00" in said
