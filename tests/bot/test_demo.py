"""The demo clinic: reproducible from its seed, valid for the importer, errors where planted."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import find_by_account_number, find_by_phone, load_snapshot
from billing.core.balances import compute_balance
from billing.core.chargemaster import load_chargemaster
from billing.core.discrepancies import find_discrepancies
from billing.db.engine import make_engine
from billing.db.models import Patient
from billing.payment_plans.models import PaymentPlan, PlanInstallment
from bot.cli import main
from bot.demo_clinic import DEMO_ACCOUNTS, generate, load
from clinic.settings import Settings

TODAY = date(2026, 3, 15)
NOW = datetime(2026, 3, 15, 14, 0, tzinfo=UTC)
PRICES = load_chargemaster(Settings().chargemaster_path)
HAND_BUILT = {d.account_number for d in DEMO_ACCOUNTS}


def test_same_seed_gives_the_same_clinic_and_another_seed_another():
    a, b = generate(7, 120, TODAY, PRICES), generate(7, 120, TODAY, PRICES)
    assert a.rows == b.rows and a.plans == b.plans and a.errors == b.errors
    assert a.opted_out == b.opted_out
    c = generate(8, 120, TODAY, PRICES)
    assert c.rows["ledger"] != a.rows["ledger"]

    def hand(clinic, kind):
        return [r for r in clinic.rows[kind] if r["account_number"] in HAND_BUILT]

    for kind in ("patients", "coverages", "ledger", "refunds"):
        assert hand(a, kind) == hand(c, kind), kind  # A1000-A1004 do not depend on the seed


def test_the_demo_is_too_small_below_its_fixed_accounts():
    with pytest.raises(ValueError, match="at least"):
        generate(1, 10, TODAY, PRICES)


def _load(url: str, seed: int, patients: int):
    clinic = generate(seed, patients, TODAY, PRICES)
    eng = make_engine(url)
    with Session(eng) as s, s.begin():
        loaded = load(s, clinic, NOW)
    return clinic, loaded, eng


def test_planted_errors_are_found_and_nothing_else(db_url):
    clinic, loaded, eng = _load(db_url, 11, 150)
    assert loaded.report.counts["patients"].inserted == 150
    planted: dict[str, set[str]] = {}
    for kind, accounts in clinic.errors.items():
        for acct in accounts:
            planted.setdefault(acct, set()).add(kind)
    with Session(eng) as s:
        found = {}
        for pid, acct in s.execute(select(Patient.id, Patient.account_number)):
            snap = load_snapshot(s, pid)
            kinds = {f.kind for f in find_discrepancies(snap.items, snap.coverages, snap.refunds)}
            if kinds:
                found[acct] = kinds
    eng.dispose()
    assert set(found) == set(planted)
    for acct, kinds in planted.items():
        extra = found[acct] - kinds
        # A duplicate line on an adjudicated claim also lifts the patient share above the terms.
        assert extra <= ({"share_above_terms"} if "duplicate_charge" in kinds else set()), acct
        assert kinds <= found[acct], acct
    assert all(len(accts) >= 2 for accts in clinic.errors.values())


def test_demo_accounts_tell_their_stories(sqlite_url):
    clinic, _, eng = _load(sqlite_url, 3, 120)
    with Session(eng) as s:
        def snap(acct):
            return load_snapshot(s, find_by_account_number(s, acct).id)

        a1000 = snap("A1000")
        b = compute_balance(a1000.items)
        assert b.due_now > 0 and b.pending_insurance == 0 and b.credit == 0
        assert find_discrepancies(a1000.items, a1000.coverages, a1000.refunds) == []

        a1001 = snap("A1001")
        b = compute_balance(a1001.items)
        assert b.due_now > 0 and b.pending_insurance == 2 * PRICES["73721"].price
        assert b.due_date < TODAY  # the office visit is past due
        kinds = [f.kind for f in find_discrepancies(a1001.items, a1001.coverages, a1001.refunds)]
        assert kinds == ["duplicate_charge"]

        a1002 = snap("A1002")
        b = compute_balance(a1002.items)
        assert b.credit == 3500 and [(r.status, r.amount) for r in a1002.refunds] == [
            ("approved", 3500)]
        assert find_discrepancies(a1002.items, a1002.coverages, a1002.refunds) == []

        family = find_by_phone(s, "+12065550188")
        assert [p.account_number for p in family] == ["A1003", "A1004"]
        for d in DEMO_ACCOUNTS:
            p = find_by_account_number(s, d.account_number)
            assert (p.date_of_birth, p.phone) == (d.date_of_birth, d.phone)

        zones = set(s.scalars(select(Patient.timezone)))
        assert {"America/Phoenix", "Pacific/Honolulu", "America/New_York"} <= zones
        opted = s.scalars(select(Patient).where(Patient.sms_opted_out_at.is_not(None))).all()
        assert sorted(p.account_number for p in opted) == sorted(clinic.opted_out)
        assert all(not p.sms_consent for p in opted)

        plans = s.scalars(select(PaymentPlan)).all()
        assert len(plans) == 3
        for plan in plans:
            inst = s.scalars(select(PlanInstallment).where(PlanInstallment.plan_id == plan.id)).all()
            assert sum(i.amount_cents for i in inst) == plan.total_cents
            assert len(inst) == plan.months
            assert any(i.status == "paid" for i in inst)
            # Each paid installment is a payment on the plan's visit.
            items = load_snapshot(s, plan.patient_id).items
            plan_pay = [i for i in items if "-PLAN" in i.entry_id]
            assert len(plan_pay) == sum(i.status == "paid" for i in inst)
    eng.dispose()
    refunds = {s for s, accts in clinic.refunds_by_status.items() if accts}
    assert refunds == {"requested", "approved", "issued", "rejected"}


def test_loading_the_same_seed_twice_changes_nothing(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    argv = ["demo-data", "--seed", "5", "--patients", "60", "--today", TODAY.isoformat()]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "patients: 60 inserted" in out and "A1002  Aiko" in out and "+12065550188" in out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "patients: 0 inserted, 0 updated, 60 unchanged" in out
    assert "ledger: 0 inserted, 0 updated" in out and "payment plans created: 0" in out
    assert main(["balance", "A1000"]) == 0
    assert "Due now:" in capsys.readouterr().out
