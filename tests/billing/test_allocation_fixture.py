"""billbot import of tests/fixtures/clinic_alloc, an export with the quirks of a real one
(payments and a discount without a claim id, a refunded double payment, a pending claim, a
payer underpayment, a price typo, a code missing from the chargemaster, a late refund), and
every figure billbot states about it, against the arithmetic in the comments."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.balance import visit_lines
from billing.accounts import find_by_account_number, load_snapshot
from billing.core.aging import age_account
from billing.core.balances import compute_balance
from billing.core.explanation import explain
from billing.core.promises import PromisePolicy
from billing.db.engine import make_engine
from billing.findings import account_findings
from billing.price_list_store import load_clinic_prices
from bot.cli import main
from bot.reminders.select import past_due_query

FIXTURE = Path(__file__).parents[1] / "fixtures" / "clinic_alloc"
TODAY = date(2026, 12, 1)


def _import(url: str, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["import", str(FIXTURE)]) == 0


def _accounts(url: str):
    eng = make_engine(url)
    with Session(eng) as s:
        clinic = load_clinic_prices(s)
        snaps = {n: load_snapshot(s, find_by_account_number(s, n).id)
                 for n in ("A500", "A501", "A502")}
        ids = {n: snap.patient_id for n, snap in snaps.items()}
        past_due = {}
        for cutoff in (date(2026, 11, 30), date(2026, 12, 1)):
            pd = past_due_query(cutoff)
            past_due[cutoff] = {r.patient_id: r.oldest_due for r in s.execute(select(pd))}
    eng.dispose()
    return snaps, clinic, ids, past_due


def test_every_figure_on_the_export_agrees_with_the_hand_arithmetic(db_url, monkeypatch):
    _import(db_url, monkeypatch)
    snaps, clinic, ids, past_due = _accounts(db_url)
    policy = PromisePolicy()

    # A500, Acme PPO (deductible met, 20% coinsurance).
    a500 = snaps["A500"]
    b = compute_balance(a500.items)
    c501, c504, c502, c503 = b.visits
    # C501 (due Jul 1): 250.00 - 50.00 contract - 160.00 insurer = 40.00 share, paid by the
    # 40.00 online payment of Jun 15 that carries no claim id.
    assert (c501.patient_share, c501.patient_paid, c501.remaining) == (4000, 4000, 0)
    assert [(a.entry_id, a.amount) for a in c501.applied] == [("L5004", 4000)]
    # C504 (denied, due Sep 5): 25.00 is the patient's. Paid twice online on Sep 10 (L5006,
    # L5007, no claim id); the Sep 20 refund takes back the later one, L5006 pays C504.
    assert (c504.patient_share, c504.remaining) == (2500, 0)
    assert [(a.entry_id, a.amount) for a in c504.applied] == [("L5006", 2500)]
    # C502 (due Dec 1): 180.00 + 600.00 = 780.00; 600.00 contract, 144.00 insurer -> 36.00.
    assert (c502.charge, c502.insurance_paid, c502.adjustments, c502.remaining) == (
        78000, 14400, 60000, 3600)
    # C503: 90.00 still with the insurer.
    assert (c503.pending_insurance, c503.remaining) == (9000, 0)
    # Total 1,145.00 - 650.00 - 304.00 - 90.00 + 25.00 = 126.00 = 36.00 due + 90.00 pending.
    assert (b.total, b.due_now, b.pending_insurance, b.credit) == (12600, 3600, 9000, 0)
    assert sum(v.remaining for v in b.visits) == b.due_now
    assert b.due_date == date(2026, 12, 1)  # not Jul 1: C501 was paid in June
    aging = age_account(a500.items, TODAY)
    assert aging.buckets["current"] == 3600 and aging.total == 3600
    assert aging.oldest_days_past_due == 0
    found = account_findings(a500, clinic, policy, TODAY)
    # 36415 is not on the chargemaster; 80053 billed 600.00 against 60.00; Acme allowed
    # 780.00 - 600.00 = 180.00 on C502 against the contract's 150.00 + 45.00 = 195.00.
    assert [(f.kind, f.entry_ids, f.amount, f.for_patient) for f in found] == [
        ("code_not_on_chargemaster", ("L5005",), 2500, False),
        ("price_differs", ("L5010",), 54000, False),
        ("payer_underpayment", ("L5009", "L5010", "L5011"), 1500, False),
    ]
    explained = {e.visit.claim_id: e.sentences for e in explain(b, a500.items)}
    assert explained["C501"] == (
        "Office visit, established patient (99214) on May 20, 2026: the charge was $250.00.",
        "Your insurance paid $160.00.",
        ("Your insurer's contract with us took $50.00 off (a contractual discount you don't "
         "owe)."),
        "You paid $40.00 on Jun 15, 2026.",
        "Nothing is left to pay on it.",
    )
    assert explained["C502"][-1] == "Left to pay: $36.00, due by Dec 1, 2026."
    assert explained["C503"][-1] == ("$90.00 is waiting on your insurance. You don't owe it "
                                     "until they decide.")

    # A501, self-pay: a 66.00 discount (Apr 2) and a 100.00 check (May 1), no claim ids.
    a501 = snaps["A501"]
    b = compute_balance(a501.items)
    s601, s602 = b.visits
    # S601 (due May 2): 220.00 - 66.00 - 100.00 = 54.00 left; S602 (due Oct 14): 340.00.
    assert (s601.adjustments, s601.patient_paid, s601.remaining) == (6600, 10000, 5400)
    assert s602.remaining == 34000
    assert (b.total, b.due_now, b.due_date) == (39400, 39400, date(2026, 5, 2))
    aging = age_account(a501.items, TODAY)
    # May 2 -> Dec 1 is 213 days (120+); Oct 14 -> Dec 1 is 48 days (31-60).
    assert (aging.buckets["120+"], aging.buckets["31-60"], aging.oldest_days_past_due) == (
        5400, 34000, 213)
    assert account_findings(a501, clinic, policy, TODAY) == []
    assert explain(b, a501.items)[0].sentences == (
        "Office visit, new patient (99203) on Apr 2, 2026: the charge was $220.00.",
        "We took $66.00 off: self-pay discount.",
        "You paid $100.00 on May 1, 2026.",
        "Left to pay: $54.00, due by May 2, 2026.",
    )
    lines = visit_lines(b)
    assert "you owe $54.00" in lines[0] and "you owe $340.00" in lines[1]

    # A502: 150.00 paid on a 120.00 visit, a 30.00 credit; refund R700 requested Oct 20 and
    # expected 10 business days later, Nov 3: late on Dec 1, and no date still to come.
    a502 = snaps["A502"]
    b = compute_balance(a502.items)
    assert (b.total, b.due_now, b.credit) == (-3000, 0, 3000)
    assert [(f.kind, f.amount) for f in account_findings(a502, clinic, policy, TODAY)] == [
        ("refund_late", 3000)]

    # Reminders: on Nov 30 only A501 is past due (since May 2); A500's oldest open amount
    # falls due Dec 1, so it joins at that cutoff; A502 owes nothing.
    as_date = {k: {p: date.fromisoformat(d) if isinstance(d, str) else d for p, d in v.items()}
               for k, v in past_due.items()}
    assert as_date[date(2026, 11, 30)] == {ids["A501"]: date(2026, 5, 2)}
    assert as_date[date(2026, 12, 1)] == {ids["A501"]: date(2026, 5, 2),
                                          ids["A500"]: date(2026, 12, 1)}
