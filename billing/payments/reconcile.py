"""Reconciliation: the processor's payments, refunds and fees over a period against the
ledger's processor lines (entry id = the processor's reference), flagging a transaction with
no ledger line and a ledger line with no transaction, or amounts that differ."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.ledger import EntryType
from billing.core.money import Cents
from billing.db.models import LedgerEntry, Patient
from billing.payments.posting import ledger_ref
from billing.payments.processor import Transaction

OK = "ok"
NO_LEDGER_LINE = "no ledger line"
NO_PROCESSOR_TRANSACTION = "no processor transaction"
AMOUNTS_DIFFER = "amounts differ"
PENDING = "pending at the processor"


@dataclass(frozen=True)
class ReconRow:
    kind: str  # payment | refund
    ref: str
    account: str | None
    processor_amount: Cents | None
    fee: Cents | None
    ledger_amount: Cents | None
    flag: str


def reconcile(session: Session, processor: str, transactions: list[Transaction], start: date,
              end: date) -> list[ReconRow]:
    """Rows for every transaction and every processor ledger line posted start..end."""
    prefix = ledger_ref(processor, "")
    lines = {e.entry_id: (e, account) for e, account in session.execute(
        select(LedgerEntry, Patient.account_number).join(Patient)
        .where(LedgerEntry.entry_id.startswith(prefix),
               LedgerEntry.posted_date >= start, LedgerEntry.posted_date <= end))}
    rows: list[ReconRow] = []
    for tx in sorted(transactions, key=lambda t: (t.created, t.ref)):
        entry_id = ledger_ref(processor, tx.ref)
        found = lines.pop(entry_id, None)
        if found is None:
            found = _outside_window(session, entry_id)
        line, account = found if found else (None, None)
        ledger_amount = Cents(line.amount_cents) if line is not None else None
        if tx.status not in ("succeeded",):
            flag = PENDING if line is None else AMOUNTS_DIFFER
        elif line is None:
            flag = NO_LEDGER_LINE
        elif line.amount_cents != tx.amount:
            flag = AMOUNTS_DIFFER
        else:
            flag = OK
        rows.append(ReconRow(tx.kind, tx.ref, account, tx.amount,
                             tx.fee if tx.kind == "payment" else None, ledger_amount, flag))
    for entry_id, (line, account) in sorted(lines.items()):
        kind = "refund" if line.type == EntryType.REFUND.value else "payment"
        rows.append(ReconRow(kind, entry_id.removeprefix(prefix), account, None, None,
                             Cents(line.amount_cents), NO_PROCESSOR_TRANSACTION))
    return rows


def _outside_window(session: Session, entry_id: str):
    """A line posted just outside the period (a payment at midnight) still matches."""
    return session.execute(select(LedgerEntry, Patient.account_number).join(Patient)
                           .where(LedgerEntry.entry_id == entry_id)).first()
