"""The one way a ledger line is written outside the bulk importer: payments, dispute
adjustments and any other single line posted while the bot or a representative works."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from billing.core.ledger import EntryType
from billing.core.money import Cents
from billing.db.models import LedgerEntry

# entry_id prefixes of lines posted here (imported lines keep the export's own ids)
_PREFIX = {
    EntryType.PATIENT_PAYMENT: "PAY",
    EntryType.PATIENT_ADJUSTMENT: "ADJ",
}


def post_line(
    *,
    session: Session,
    patient_id: int,
    type: EntryType,
    amount: Cents,
    posted_date: date,
    entry_id: str | None = None,
    claim_id: str | None = None,
    method: str | None = None,
    description: str | None = None,
) -> LedgerEntry:
    """Add one line to the caller's transaction. amount is positive; the type gives direction."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("a ledger line is a positive whole number of cents")
    type = EntryType(type)
    entry = LedgerEntry(
        entry_id=entry_id or f"{_PREFIX.get(type, 'LN')}-{uuid.uuid4().hex[:16].upper()}",
        patient_id=patient_id,
        type=type.value,
        amount_cents=amount,
        posted_date=posted_date,
        claim_id=claim_id,
        method=method,
        description=description,
    )
    session.add(entry)
    session.flush()
    return entry
