"""Small builders for ledger lines and coverage terms used by the domain tests."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from billing.core.ledger import ClaimStatus, CoverageTerms, EntryType, LineItem

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def charge(amount, *, claim=None, status=ClaimStatus.ADJUDICATED, day=date(2025, 3, 3),
           due=None, cpt="99213", desc="Office visit", provider="Dr. Rivera", entry_id=None):
    return LineItem(
        entry_id=entry_id or _id("c"), type=EntryType.CHARGE, amount=amount, posted_date=day,
        service_date=day, cpt_code=cpt, description=desc, provider=provider, claim_id=claim,
        claim_status=status, due_date=due,
    )


def _credit(kind, amount, claim, day, entry_id, method=None):
    return LineItem(entry_id=entry_id or _id("p"), type=kind, amount=amount, posted_date=day,
                    claim_id=claim, method=method)


def ins_paid(amount, claim, *, day=date(2025, 4, 1), entry_id=None):
    return _credit(EntryType.INSURANCE_PAYMENT, amount, claim, day, entry_id)


def ins_adj(amount, claim, *, day=date(2025, 4, 1), entry_id=None):
    return _credit(EntryType.INSURANCE_ADJUSTMENT, amount, claim, day, entry_id)


def paid(amount, claim=None, *, day=date(2025, 4, 10), entry_id=None):
    return _credit(EntryType.PATIENT_PAYMENT, amount, claim, day, entry_id, method="card")


def pat_adj(amount, claim=None, *, day=date(2025, 4, 10), entry_id=None):
    return _credit(EntryType.PATIENT_ADJUSTMENT, amount, claim, day, entry_id)


def refund(amount, *, day=date(2025, 5, 1), entry_id=None):
    return _credit(EntryType.REFUND, amount, None, day, entry_id, method="card")


def coverage(*, deductible=150000, met=0, coins="20", copay=0, oop_max=600000, oop_met=0,
             effective=date(2025, 1, 1), terminated=None):
    return CoverageTerms(
        payer="Acme Health", member_id="M1", plan_name="Silver PPO", deductible=deductible,
        deductible_met=met, coinsurance_percent=Decimal(coins), copay=copay,
        out_of_pocket_max=oop_max, out_of_pocket_met=oop_met, effective_date=effective,
        termination_date=terminated,
    )
