"""The clinic's chargemaster.csv and fee_schedules.csv: imported with the export, checked row by
row, all or nothing, re-importable; and `billbot discrepancies` judging clinic_small by them."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from billing.accounts import find_by_account_number, load_snapshot
from billing.core.coding_checks import KINDS as CLINIC_KINDS
from billing.core.promises import PromisePolicy
from billing.db.engine import make_engine
from billing.findings import account_findings
from billing.price_list_store import load_clinic_prices
from tests.import_support import rows_of

TODAY = date(2024, 6, 30)

FIXTURES = Path(__file__).parents[1] / "fixtures"
TABLES = ("patients", "coverages", "ledger_entries", "refunds", "refund_events", "audit_log",
          "chargemaster_items", "fee_schedule_rates")



@pytest.fixture
def export(tmp_path) -> Path:
    """clinic_small with the clinic's own price list and contracts beside it."""
    out = tmp_path / "export"
    shutil.copytree(FIXTURES / "clinic_small", out)
    for f in (FIXTURES / "clinic_prices").iterdir():
        shutil.copy(f, out / f.name)
    return out


def snapshot_tables(url: str) -> dict[str, list]:
    return rows_of(url, TABLES)


def clinic_findings(url: str, number: str) -> list[tuple]:
    eng = make_engine(url)
    try:
        with Session(eng) as s:
            a = load_snapshot(s, find_by_account_number(s, number).id)
            found = account_findings(a, load_clinic_prices(s), PromisePolicy(), TODAY)
    finally:
        eng.dispose()
    return [(f.kind, f.entry_ids, f.amount) for f in found if f.kind in CLINIC_KINDS]


def test_price_list_and_contracts_import_and_judge_the_accounts(db_url, cli, export):
    rc, out, err = cli(db_url, "import", str(export))
    assert (rc, err) == (0, "")
    assert "chargemaster: 4 inserted, 0 updated, 0 unchanged" in out
    assert "fee_schedules: 4 inserted, 0 updated, 0 unchanged" in out
    assert "ledger: 19 inserted" in out  # 36415, on no chargemaster line, is not an import error

    # A100 (Acme Health). C100: 250.00 - 50.00 written off = 200.00 allowed; the contract allows
    # 210.00 for 99214 -> 10.00 short. C102: 2 x 180.00 - 30.00 = 330.00 allowed; from June 1
    # 99213 is 170.00 -> 340.00 contracted, 10.00 short. Prices all match the chargemaster.
    # Paid short? The largest share the terms allow (deductible met less this and later
    # shares) leaves the insurer owing at most 0.00 on C100 and 96.00 on C102: it paid more.
    assert clinic_findings(db_url, "A100") == [
        ("payer_underpayment", ("E1001", "E1003"), 1000),
        ("payer_underpayment", ("E1007", "E1008", "E1010"), 1000),
    ]
    # A101 (Valley HMO, 30.00 copay). The 25.00 blood draw (36415) is not on the chargemaster.
    # C200 allowed 180.00 - 20.00 = 160.00, as contracted; the insurer owed 160.00 - 30.00 copay
    # = 130.00 and paid 100.00: 30.00 short.
    assert clinic_findings(db_url, "A101") == [
        ("code_not_on_chargemaster", ("E2005",), 2500),
        ("insurance_paid_short", ("E2001", "E2003", "E2002"), 3000),
    ]
    # A102, self-pay: the new-patient visit is billed 220.00, the chargemaster says 200.00.
    assert clinic_findings(db_url, "A102") == [("price_differs", ("E3001",), 2000)]

    rc, out, _ = cli(db_url, "discrepancies", "A101")
    assert rc == 0
    assert "share_above_terms: $30.00 [E2001, E2002, E2003]\n" in out
    assert "code_not_on_chargemaster: $25.00 [E2005] (representative only)" in out
    assert "insurance_paid_short: $30.00 [E2001, E2003, E2002] (representative only)" in out


def test_without_a_clinic_chargemaster_no_code_or_price_finding(db_url, cli, export):
    (export / "chargemaster.csv").unlink()
    assert cli(db_url, "import", str(export))[0] == 0
    assert clinic_findings(db_url, "A102") == []
    assert [k for k, *_ in clinic_findings(db_url, "A101")] == ["insurance_paid_short"]
    assert [k for k, *_ in clinic_findings(db_url, "A100")] == ["payer_underpayment"] * 2


def test_reimporting_changes_nothing_and_a_changed_price_updates(db_url, cli, export):
    assert cli(db_url, "import", str(export))[0] == 0
    before = snapshot_tables(db_url)
    rc, out, _ = cli(db_url, "import", str(export))
    assert rc == 0 and "chargemaster: 0 inserted, 0 updated, 4 unchanged" in out
    assert "fee_schedules: 0 inserted, 0 updated, 4 unchanged" in out
    assert snapshot_tables(db_url) == before

    (export / "chargemaster.csv").write_text(
        "cpt_code,description,price\n99203,\"Office visit, new patient\",220.00\n")
    (export / "fee_schedules.csv").write_text(
        "payer,cpt_code,allowed_amount,effective_date,termination_date\n"
        "ACME  health,99214,200.00,2024-01-01,2024-12-31\n")  # same key: payer in any case
    rc, out, _ = cli(db_url, "import", str(export / "chargemaster.csv"),
                     str(export / "fee_schedules.csv"))
    assert rc == 0 and "chargemaster: 0 inserted, 1 updated, 0 unchanged" in out
    assert "fee_schedules: 0 inserted, 1 updated, 0 unchanged" in out
    assert clinic_findings(db_url, "A102") == []
    assert clinic_findings(db_url, "A100") == [
        ("payer_underpayment", ("E1007", "E1008", "E1010"), 1000)]


CM, FS = "chargemaster.csv", "fee_schedules.csv"
# (file, line, old text, new text, reason printed)
BAD_ROWS = [
    (CM, 3, "99203,", "9920,", "cpt_code '9920' is not a CPT/HCPCS code (5 letters or digits)"),
    (CM, 3, "99203,", "99213-25,",
     "cpt_code '99213-25' is not a CPT/HCPCS code (5 letters or digits)"),
    (CM, 4, "180.00", "180.001", "price: more than two decimals: '180.001'"),
    (CM, 4, "180.00", "1.8e2", "price: not an amount: '1.8e2'"),
    (CM, 5, "250.00", "0.00", "price must be more than zero"),
    (CM, 2, "Complete blood count", "", "description is required"),
    (CM, 3, "99203,", "85025,", "same cpt_code as {dir}/chargemaster.csv:2"),
    (FS, 2, "2024-01-01,2024-12-31", "2024-01-01,2023-12-31",
     "termination_date is before effective_date"),
    (FS, 3, "2024-05-31", "2024-02-30", "termination_date '2024-02-30' is not a date (YYYY-MM-DD)"),
    (FS, 4, "170.00", "-170.00", "allowed_amount: negative amount: '-170.00'"),
    (FS, 4, "99213,170.00,2024-06-01", "99213,170.00,2024-01-01",
     "same payer, cpt_code and effective_date as {dir}/fee_schedules.csv:3"),
    (FS, 4, "99213,170.00,2024-06-01", "99213,170.00,2024-05-31",
     "Acme Health 99213: the period overlaps {dir}/fee_schedules.csv:3"),
    (FS, 5, "Valley HMO,99213", "Valley HMO,", "cpt_code is required"),
]


def _bad_copy(export: Path, file: str, old: str, new: str) -> Path:
    content = (export / file).read_text()
    assert content.count(old) == 1, old
    (export / file).write_text(content.replace(old, new))
    # A new, valid account alongside the bad row: it must not be written either.
    with (export / "patients.csv").open("a") as fh:
        fh.write("A200,Dan,Ortiz,1969-07-20,+1 212 555 0123,,,America/New_York,sms,yes\n")
    return export


@pytest.mark.parametrize("file,line,old,new,reason", BAD_ROWS, ids=[r[4][:28] for r in BAD_ROWS])
def test_one_bad_price_row_rejects_the_whole_import(sqlite_url, cli, tmp_path, export, file,
                                                    line, old, new, reason):
    good = tmp_path / "good"
    shutil.copytree(export, good)
    assert cli(sqlite_url, "import", str(good))[0] == 0
    before = snapshot_tables(sqlite_url)
    rc, out, err = cli(sqlite_url, "import", str(_bad_copy(export, file, old, new)))
    assert rc == 1
    assert f"{export}/{file}:{line}: {reason.format(dir=export)}" in err
    assert len(err.splitlines()) == 2  # exactly the one bad row, then "import rejected"
    assert "nothing was changed" in err and out == ""
    assert snapshot_tables(sqlite_url) == before


def test_a_period_overlapping_a_stored_rate_is_rejected(db_url, cli, export, tmp_path):
    assert cli(db_url, "import", str(export))[0] == 0
    before = snapshot_tables(db_url)
    later = tmp_path / "fee_schedules_2025.csv"
    later.write_text("payer,cpt_code,allowed_amount,effective_date,termination_date\n"
                     "valley hmo,99213,175.00,2025-01-01,\n")
    rc, _, err = cli(db_url, "import", str(later))
    assert rc == 1
    assert (f"{later}:2: valley hmo 99213: the period overlaps the stored rate from 2024-01-01"
            in err)
    assert snapshot_tables(db_url) == before
    # Closing the stored period in the same import makes room for the new one.
    later.write_text("payer,cpt_code,allowed_amount,effective_date,termination_date\n"
                     "Valley HMO,99213,160.00,2024-01-01,2024-12-31\n"
                     "Valley HMO,99213,175.00,2025-01-01,\n")
    rc, out, err = cli(db_url, "import", str(later))
    assert (rc, err) == (0, "")
    assert "fee_schedules: 1 inserted, 1 updated, 0 unchanged" in out


def test_bad_price_row_on_an_empty_postgres_database_writes_nothing(pg_url, cli, export):
    file, line, old, new, reason = BAD_ROWS[2]
    rc, _, err = cli(pg_url, "import", str(_bad_copy(export, file, old, new)))
    assert rc == 1 and f"{file}:{line}: {reason}" in err
    eng = make_engine(pg_url)
    with eng.connect() as c:
        assert [c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES] == [0] * 8
    eng.dispose()
