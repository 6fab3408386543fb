"""Payments posted at the same moment on one account all land (PostgreSQL, real connections)."""
from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.accounts import find_by_account_number, load_snapshot, post_payment
from billing.core.balances import compute_balance
from billing.db.engine import make_engine
from billing.db.models import LedgerEntry
from billing.importer import import_sources, sources_from_paths

FIXTURE = Path(__file__).parents[1] / "fixtures" / "clinic_small"
THREADS = 6
EACH = 5


def test_simultaneous_payments_on_one_account_all_land(pg_url):
    engine = make_engine(pg_url)
    with Session(engine) as s, s.begin():
        import_sources(s, sources_from_paths([FIXTURE]))
        pid = find_by_account_number(s, "A100").id
    start = threading.Barrier(THREADS)
    errors: list[Exception] = []

    def pay(worker: int) -> None:
        try:
            start.wait()
            for n in range(EACH):
                with Session(engine) as s, s.begin():  # one connection per payment
                    post_payment(session=s, patient_id=pid, amount=100 + worker, method="card",
                                 on=date(2024, 7, 1), claim_id="C102", entry_id=f"P-{worker}-{n}")
        except Exception as exc:  # noqa: BLE001 - reported below: a lost payment fails the test
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as s:
        count = s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.entry_id.like("P-%")))
        b = compute_balance(load_snapshot(s, pid).items)
    engine.dispose()
    paid = sum((100 + w) * EACH for w in range(THREADS))  # 5 x (100+...+105) = 3075 cents
    assert count == THREADS * EACH
    # The fixture's A100 owed 270.00 in all, 210.00 of it on claim C102.
    assert b.total == 27000 - paid
    assert b.visit("C102").patient_paid == paid
    assert b.visit("C102").remaining == 21000 - paid
