"""Every finding on an account in one list: the billing checks (billing.core.discrepancies), the
checks against the clinic's price list and contracts (billing.core.coding_checks), the promises
that have passed (billing.core.promises); and the representatives' worklist of accounts with open
findings, largest amount at stake first. A patient is only ever told those with for_patient."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.accounts import AccountSnapshot, load_snapshot
from billing.core.balances import compute_balance
from billing.core.coding_checks import clinic_checks
from billing.core.discrepancies import Finding, find_discrepancies
from billing.core.money import Cents
from billing.core.price_lists import ClinicPrices
from billing.core.promises import OpenCase, PromisePolicy, late_promises
from billing.db.models import Patient
from billing.price_list_store import load_clinic_prices


def account_findings(snap: AccountSnapshot, clinic: ClinicPrices, policy: PromisePolicy,
                     today: date) -> list[Finding]:
    """The account's checks, the clinic's, then the late promises."""
    cases = [OpenCase(d.reference, d.opened_at.date(), d.amount) for d in snap.open_disputes]
    return [
        *find_discrepancies(snap.items, snap.coverages, snap.refunds),
        *clinic_checks(list(snap.items), list(snap.coverages), clinic),
        *late_promises(compute_balance(snap.items), snap.refunds, cases, policy, today),
    ]


@dataclass(frozen=True)
class WorkItem:
    patient_id: int
    account_number: str
    findings: tuple[Finding, ...]

    @property
    def at_stake(self) -> Cents:
        return sum(f.amount for f in self.findings)


def _patients(session: Session, batch: int = 500) -> Iterator[int]:
    yield from session.scalars(select(Patient.id).order_by(Patient.id),
                               execution_options={"yield_per": batch})


def worklist(session: Session, policy: PromisePolicy, today: date) -> list[WorkItem]:
    """Accounts with at least one finding, largest amount at stake first (then account)."""
    clinic = load_clinic_prices(session)
    items = []
    for pid in list(_patients(session)):
        snap = load_snapshot(session, pid)
        found = account_findings(snap, clinic, policy, today)
        if found:
            items.append(WorkItem(pid, snap.account_number, tuple(found)))
    return sorted(items, key=lambda w: (-w.at_stake, w.account_number))
