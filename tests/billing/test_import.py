"""billbot import on the hand-computed clinic_small fixture, bad rows, and re-imports."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from billing.accounts import find_by_account_number, find_by_phone, load_snapshot
from billing.core.aging import age_account, practice_aging
from billing.core.balances import compute_balance
from billing.core.discrepancies import find_discrepancies
from billing.db.engine import make_engine
from billing.db.models import Patient
from billing.refunds.models import Refund
from tests.import_support import rows_of

FIXTURE = Path(__file__).parents[1] / "fixtures" / "clinic_small"
TODAY = date(2024, 6, 30)
TABLES = ("patients", "coverages", "ledger_entries", "refunds", "refund_events", "audit_log")



def snapshot_tables(url: str) -> dict[str, list]:
    return rows_of(url, TABLES)


def account(url: str, number: str):
    eng = make_engine(url)
    try:
        with Session(eng) as s:
            return load_snapshot(s, find_by_account_number(s, number).id)
    finally:
        eng.dispose()


def test_fixture_import_matches_hand_computed_numbers(db_url, cli):
    rc, out, err = cli(db_url, "import", str(FIXTURE))
    assert (rc, err) == (0, "")
    assert "patients: 3 inserted, 0 updated, 0 unchanged" in out
    assert "coverages: 3 inserted" in out and "ledger: 19 inserted" in out
    assert "refunds: 4 inserted" in out

    # A100, PPO (deductible met, 20% coinsurance).
    a100 = account(db_url, "A100")
    b = compute_balance(a100.items)
    c100, c101, c102 = b.visits
    # C100: charge 250.00; insurer paid 160.00 and wrote off 50.00 -> share 250-160-50 = 40.00;
    # adjustments 50.00 + 5.00 prompt-pay = 55.00; paid 15.00 -> remaining 250-160-55-15 = 20.00.
    assert (c100.claim_id, c100.charge, c100.insurance_paid, c100.adjustments) == (
        "C100", 25000, 16000, 5500)
    assert (c100.patient_share, c100.patient_paid, c100.remaining) == (4000, 1500, 2000)
    assert c100.due_date == date(2024, 4, 15)
    # C101: 40.00 still with insurance: nothing owed yet, 40.00 pending.
    assert (c101.claim_id, c101.charge, c101.remaining, c101.pending_insurance) == (
        "C101", 4000, 0, 4000)
    # C102: two 180.00 lines = 360.00; insurer 120.00 paid + 30.00 written off -> 210.00 owed.
    assert (c102.charge, c102.insurance_paid, c102.adjustments, c102.patient_share,
            c102.remaining) == (36000, 12000, 3000, 21000, 21000)
    # Total = 250+40+360 - 160-50-5-15 - 120-30 = 270.00; due now 270.00 - 40.00 pending = 230.00.
    assert (b.total, b.due_now, b.pending_insurance, b.credit, b.refunded_beyond_credit) == (
        27000, 23000, 4000, 0, 0)
    assert b.due_date == date(2024, 4, 15)
    # Aging on 2024-06-30: C100's 20.00 due 2024-04-15 is 15+31+30 = 76 days late (61-90);
    # C102's 210.00 is due 2024-07-15 (current).
    ag100 = age_account(a100.items, TODAY)
    assert ag100.buckets == {"current": 21000, "1-30": 0, "31-60": 0, "61-90": 2000,
                             "91-120": 0, "120+": 0}
    assert (ag100.total, ag100.oldest_days_past_due) == (23000, 76)
    found = find_discrepancies(a100.items, a100.coverages, a100.refunds)
    # The second 180.00 line of 2024-06-01 is the duplicate; the pending CBC carries a due date.
    assert [(f.kind, f.entry_ids, f.amount) for f in found] == [
        ("duplicate_charge", ("E1007", "E1008"), 18000),
        ("billed_while_pending", ("E1006",), 4000),
    ]

    # A101, HMO with a 30.00 copay, no deductible.
    a101 = account(db_url, "A101")
    b = compute_balance(a101.items)
    c200, d201 = b.visits
    # C200: 180.00 - 100.00 paid - 20.00 written off = 60.00 share, but the copay is 30.00.
    # The 25.00 check tied to no visit pays the oldest open share (C200, due 2024-05-01):
    # 60.00 - 25.00 = 35.00 left.
    assert (c200.patient_share, c200.patient_paid, c200.remaining) == (6000, 2500, 3500)
    assert [a.entry_id for a in c200.applied] == ["E2004"]
    # D201 denied: the whole 25.00 is the patient's.
    assert (d201.claim_status, d201.patient_share, d201.remaining) == ("denied", 2500, 2500)
    # Total = 180+25 - 100-20 - 25 = 60.00 = 35.00 + 25.00, the visits' remaining amounts.
    assert (b.total, b.due_now, b.pending_insurance, b.credit, b.refunded_beyond_credit) == (
        6000, 6000, 0, 0, 0)
    assert b.due_date == date(2024, 5, 1)
    # Aging: the unapplied 25.00 pays the oldest first: C200 60.00-25.00 = 35.00, due 2024-05-01,
    # is 30+30 = 60 days late (31-60); D201 25.00 due 2024-07-20 is current.
    ag101 = age_account(a101.items, TODAY)
    assert ag101.buckets == {"current": 2500, "1-30": 0, "31-60": 3500, "61-90": 0,
                             "91-120": 0, "120+": 0}
    assert (ag101.total, ag101.oldest_days_past_due) == (6000, 60)
    found = find_discrepancies(a101.items, a101.coverages, a101.refunds)
    # The check is allocated, not reported.
    # share_above_terms: 60.00 share - 30.00 copay = 30.00 too much.
    assert [(f.kind, f.entry_ids, f.amount) for f in found] == [
        ("share_above_terms", ("E2001", "E2002", "E2003"), 3000),
    ]

    # A102, self-pay, paid the 220.00 visit twice, 50.00 refunded so far.
    a102 = account(db_url, "A102")
    b = compute_balance(a102.items)
    (s300,) = b.visits
    assert (s300.patient_share, s300.patient_paid, s300.remaining) == (22000, 44000, 0)
    # Total = 220 - 440 + 50 refund = -170.00: a 170.00 credit.
    assert (b.total, b.due_now, b.credit) == (-17000, 0, 17000)
    assert age_account(a102.items, TODAY).total == 0
    found = find_discrepancies(a102.items, a102.coverages, a102.refunds)
    # Credit 170.00 - in flight (60.00 approved + 40.00 requested) - issued beyond posted
    # (50.00 - 50.00 = 0) = 70.00 with no refund on the way; the rejected 30.00 counts nothing.
    assert [(f.kind, f.entry_ids, f.amount) for f in found] == [
        ("credit_not_refunded", ("E3002", "E3003"), 7000),
    ]

    # Practice: 230.00 + 60.00 + 0 = 290.00.
    practice = practice_aging([ag100, ag101, age_account(a102.items, TODAY)])
    assert practice.buckets == {"current": 23500, "1-30": 0, "31-60": 3500, "61-90": 2000,
                                "91-120": 0, "120+": 0}
    rc, out, _ = cli(db_url, "aging", "--today", "2024-06-30")
    assert rc == 0 and "$290.00" in out and "3 accounts" in out

    # The family phone, normalised to E.164, finds both Smiths.
    eng = make_engine(db_url)
    with Session(eng) as s:
        assert [p.account_number for p in find_by_phone(s, "+16025550101")] == ["A100", "A101"]
        refunds = {r.refund_id: [e.status for e in r.events] for r in s.scalars(select(Refund))}
    eng.dispose()
    assert refunds == {
        "R0": ["requested", "approved", "issued"],
        "R1": ["requested", "approved"],
        "R2": ["requested"],
        "R3": ["requested", "rejected"],
    }


def test_balance_command_prints_the_itemised_balance(sqlite_url, cli):
    assert cli(sqlite_url, "import", str(FIXTURE))[0] == 0
    rc, out, _ = cli(sqlite_url, "balance", "a100")
    assert rc == 0
    assert "Office visit, established patient (99214)" in out
    assert "Due now:             $230.00 (due 2024-04-15)" in out
    assert "Pending insurance:   $40.00" in out
    rc, out, _ = cli(sqlite_url, "discrepancies", "A102")
    assert rc == 0 and "credit_not_refunded: $70.00 [E3002, E3003]" in out


@pytest.mark.parametrize("command", ["balance", "discrepancies", "aging"])
def test_unknown_account_is_a_clear_error(sqlite_url, cli, command):
    rc, out, err = cli(sqlite_url, command, "Z999")
    assert rc == 1 and out == "" and "no account 'Z999'" in err


# One bad row per kind of error: (file, line, old text, new text, reason printed).
BAD_ROWS = [
    ("ledger.csv", 3, "A100,E1002,2024-03-20", "A100,E1002,2024-03-32",
     "posted_date '2024-03-32' is not a date (YYYY-MM-DD)"),
    ("ledger.csv", 5, ",5.00,", ",5.005,", "amount: more than two decimals: '5.005'"),
    ("ledger.csv", 15, "A101,E2004", "A109,E2004", "unknown account number A109"),
    ("ledger.csv", 6, "patient_payment,15.00", "patient_paymnt,15.00",
     "type 'patient_paymnt' is not one of charge|insurance_payment"),
    ("patients.csv", 4, "808 555 0199", "808 555 019", "phone '808 555 019' is not a valid phone"),
    ("patients.csv", 2, "org,,America/Phoenix", "org,,America/Phoenx",
     "timezone 'America/Phoenx' is not an IANA time zone"),
    ("ledger.csv", 10, "120.00,,,,C102", "120.00,,,,C109",
     "claim_id C109 is on no charge of account A100"),
    ("refunds.csv", 3, "approved,,ach", "approved,2024-03-11,ach",
     "issued_date given on a refund that is only approved"),
    ("coverages.csv", 1, "termination_date", "end_date", "missing column(s): termination_date"),
]


def _bad_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURE, bad)
    content = (bad / file).read_text()
    assert content.count(old) == 1, old
    (bad / file).write_text(content.replace(old, new))
    # A new, valid account alongside the bad row: it must not be written either.
    with (bad / "patients.csv").open("a") as fh:
        fh.write("A200,Dan,Ortiz,1969-07-20,+1 212 555 0123,,,America/New_York,sms,yes\n")
    return bad


@pytest.mark.parametrize("file,line,old,new,reason", BAD_ROWS, ids=[r[4][:24] for r in BAD_ROWS])
def test_one_bad_row_rejects_the_whole_import(sqlite_url, cli, tmp_path, file, line, old, new,
                                              reason):
    assert cli(sqlite_url, "import", str(FIXTURE))[0] == 0
    before = snapshot_tables(sqlite_url)
    rc, out, err = cli(sqlite_url, "import", str(_bad_copy(tmp_path, file, old, new)))
    assert rc == 1
    assert f"{file}:{line}: {reason}" in err
    assert err.count(".csv:") == 1  # exactly the one bad row is reported
    assert "nothing was changed" in err and out == ""
    assert snapshot_tables(sqlite_url) == before


def test_bad_row_on_an_empty_postgres_database_writes_nothing(pg_url, cli, tmp_path):
    file, line, old, new, reason = BAD_ROWS[1]
    rc, _, err = cli(pg_url, "import", str(_bad_copy(tmp_path, file, old, new)))
    assert rc == 1 and f"{file}:{line}: {reason}" in err
    eng = make_engine(pg_url)
    with eng.connect() as c:
        assert [c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES] == [0] * 6
    eng.dispose()


def test_every_error_is_reported_up_to_twenty(sqlite_url, cli, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "patients.csv").write_text(
        (FIXTURE / "patients.csv").read_text().replace("America/Phoenix", "Mars/Olympus")
    )
    ledger = (FIXTURE / "ledger.csv").read_text().splitlines()
    rows = [ledger[0]] + [f"A100,X{i},2024-01-01,,patient_payment,1.001,,,,,,card," for i in range(30)]
    (bad / "ledger.csv").write_text("\n".join(rows) + "\n")
    rc, _, err = cli(sqlite_url, "import", str(bad))
    assert rc == 1
    lines = err.splitlines()
    assert lines[:2] == [
        f"{bad}/patients.csv:2: timezone 'Mars/Olympus' is not an IANA time zone",
        f"{bad}/patients.csv:3: timezone 'Mars/Olympus' is not an IANA time zone",
    ]
    assert sum(".csv:" in x for x in lines) == 20
    assert "... and 12 more error(s)" in err and "32 error(s)" in err


def test_files_can_be_imported_one_by_one_and_are_checked_against_the_database(
    sqlite_url, cli, tmp_path
):
    rc, _, err = cli(sqlite_url, "import", str(FIXTURE / "ledger.csv"))
    assert rc == 1 and "ledger.csv:2: unknown account number A100" in err
    assert cli(sqlite_url, "import", str(FIXTURE / "patients.csv"))[0] == 0
    rc, out, _ = cli(sqlite_url, "import", str(FIXTURE / "ledger.csv"),
                     str(FIXTURE / "refunds.csv"))
    assert rc == 0 and "ledger: 19 inserted" in out
    # A later file may pay a claim charged by an earlier import.
    (tmp_path / "ledger_june.csv").write_text(
        (FIXTURE / "ledger.csv").read_text().splitlines()[0] + "\n"
        "A100,E1099,2024-06-29,,patient_payment,20.00,,,,C100,,card,\n"
    )
    rc, out, _ = cli(sqlite_url, "import", str(tmp_path / "ledger_june.csv"))
    assert rc == 0 and "ledger: 1 inserted" in out
    assert compute_balance(account(sqlite_url, "A100").items).visits[0].remaining == 0
    rc, _, err = cli(sqlite_url, "import", str(tmp_path / "notes.csv"))
    assert rc == 1 and "no such file" in err


def test_reimporting_the_same_files_changes_nothing(db_url, cli):
    assert cli(db_url, "import", str(FIXTURE))[0] == 0
    before = snapshot_tables(db_url)
    rc, out, _ = cli(db_url, "import", str(FIXTURE))
    assert rc == 0
    assert "ledger: 0 inserted, 0 updated, 19 unchanged" in out
    assert "refund history events added: 0" in out
    assert snapshot_tables(db_url) == before


def test_a_changed_row_updates_the_stored_one(db_url, cli, tmp_path):
    assert cli(db_url, "import", str(FIXTURE))[0] == 0
    changed = tmp_path / "changed"
    shutil.copytree(FIXTURE, changed)
    for name, old, new in [
        ("ledger.csv", "A101,E2004,2024-05-15,,patient_payment,25.00,,,,,",
         "A101,E2004,2024-05-15,,patient_payment,25.00,,,,C200,"),
        ("refunds.csv", "A102,R1,60.00,2024-03-10,approved,,ach",
         "A102,R1,60.00,2024-03-10,issued,2024-04-02,ach"),
        ("patients.csv", "2010-09-30,602-555-0101,,700100101,America/Phoenix,telegram,no",
         "2010-09-30,602-555-0101,,700100101,America/Phoenix,telegram,yes"),
    ]:
        path = changed / name
        path.write_text(path.read_text().replace(old, new))
    rc, out, _ = cli(db_url, "import", str(changed))
    assert rc == 0
    assert "patients: 0 inserted, 1 updated, 2 unchanged" in out
    assert "ledger: 0 inserted, 1 updated, 18 unchanged" in out
    assert "refunds: 0 inserted, 1 updated, 3 unchanged" in out
    assert "refund history events added: 1" in out
    # The check now names the 04-02 visit's claim: 60.00 - 25.00 = 35.00 left, from its own line.
    b = compute_balance(account(db_url, "A101").items)
    assert (b.visits[0].remaining, b.visits[0].applied, b.total) == (3500, (), 6000)
    eng = make_engine(db_url)
    with Session(eng) as s:
        r1 = s.scalars(select(Refund).where(Refund.refund_id == "R1")).one()
        assert [(e.status, e.on_date) for e in r1.events] == [
            ("requested", date(2024, 3, 10)), ("approved", date(2024, 3, 10)),
            ("issued", date(2024, 4, 2)),
        ]
        ben = find_by_account_number(s, "A101")
        assert ben.sms_consent and ben.sms_consent_at is not None
        assert s.scalar(select(func.count()).select_from(Patient)) == 3
    eng.dispose()
