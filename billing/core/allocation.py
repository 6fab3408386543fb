"""The one allocation rule: which money pays which visit.

A practice's payment poster applies money the way this module does, and every amount billbot
states or acts on (balance and due date, itemisation, aging, statements, findings, reminders,
plans, the console) comes from it:

1. A line carrying a visit's claim id applies to that visit.
2. Money not tied to a visit (a payment or adjustment without a claim id, or with a claim id that
   is not on the account) and any visit's overpayment form the account's pool, less the refunds
   that returned such money (a refund takes back the latest money paid before it).
3. The pool pays off the open patient shares oldest first: by due date (a visit not yet billed,
   with no due date, comes last), then service date, then visit key.
4. Amounts waiting on insurance are not paid off by the pool: the patient does not owe them yet,
   and the insurer's decision may change them. What is left of the pool is the account's credit,
   which meets the patient share once the claim is decided.
5. Refunds beyond any pool are owed again, due now, on no visit.

Pure functions over plain values; no I/O. bot/reminders/select.py states the same rule in SQL
for speed; a property test holds them to the same answers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing.core.ledger import EntryType
from billing.core.money import ZERO, Cents, cents, total

TRANSFER = "transfer"  # an overpayment moved from another visit


@dataclass(frozen=True)
class Source:
    """Money in the pool: one account-level line, or one visit's overpayment."""

    entry_id: str
    kind: str  # an EntryType value, or TRANSFER
    posted_date: date
    amount: Cents
    from_visit: str | None = None  # the overpaid visit's key, for a TRANSFER


@dataclass(frozen=True)
class Applied:
    """Part of a Source applied to one visit."""

    entry_id: str
    kind: str
    posted_date: date
    amount: Cents
    from_visit: str | None = None

    @property
    def is_adjustment(self) -> bool:
        return self.kind in (EntryType.PATIENT_ADJUSTMENT, EntryType.INSURANCE_ADJUSTMENT)


@dataclass(frozen=True)
class OpenShare:
    """A visit's patient share still owed from its own lines, in allocation order's terms."""

    key: str
    owed: Cents  # > 0
    due_date: date | None
    service_date: date | None


@dataclass(frozen=True)
class Allocation:
    applied: dict[str, tuple[Applied, ...]]  # by visit key
    credit: Cents  # pool left after every open share is paid
    refunded_beyond_credit: Cents  # refunds with no money left to take back: owed again


def allocation_order(
    due_date: date | None, service_date: date | None, key: str
) -> tuple[bool, date, bool, date, str]:
    """Oldest first: due date (none last), then service date (none last), then key."""
    return (due_date is None, due_date or date.min, service_date is None,
            service_date or date.min, key)


@dataclass
class _Pooled:
    """A Source in the pool and what is left of it."""

    source: Source
    left: Cents


def _take_back(sources: list[_Pooled], refund_amount: Cents, refund_date: date) -> Cents:
    """Remove a refund from the pool, latest money paid on or before it first; return the rest
    of the refund that found nothing to take back."""
    order = sorted(range(len(sources)),
                   key=lambda i: (sources[i].source.posted_date <= refund_date,
                                  sources[i].source.posted_date, sources[i].source.entry_id),
                   reverse=True)
    for i in order:
        if refund_amount == 0:
            break
        used = min(sources[i].left, refund_amount)
        sources[i].left = cents(sources[i].left - used)
        refund_amount = cents(refund_amount - used)
    return refund_amount


def allocate(
    shares: Sequence[OpenShare],
    sources: Sequence[Source],
    refunds: Sequence[tuple[Cents, date]],
) -> Allocation:
    """Apply the pool (sources less account-level refunds) to the open shares, oldest first.

    Sources are spent in the order they were posted, so the explanation can say which payment
    paid which visit; the amounts depend only on the totals.
    """
    pool = [_Pooled(s, s.amount)
            for s in sorted(sources, key=lambda s: (s.posted_date, s.entry_id))]
    beyond = ZERO
    for amount, day in sorted(refunds, key=lambda r: r[1]):
        beyond = cents(beyond + _take_back(pool, amount, day))
    applied: dict[str, list[Applied]] = {}
    live = iter(p for p in pool if p.left > 0)
    current = next(live, None)
    for share in sorted(shares, key=lambda s: allocation_order(s.due_date, s.service_date, s.key)):
        need = share.owed
        while need > 0 and current is not None:
            src = current.source
            used = min(current.left, need)
            applied.setdefault(share.key, []).append(
                Applied(src.entry_id, src.kind, src.posted_date, used, src.from_visit))
            need = cents(need - used)
            current.left = cents(current.left - used)
            if current.left == 0:
                current = next(live, None)
    return Allocation(
        applied={k: tuple(v) for k, v in applied.items()},
        credit=total(p.left for p in pool),
        refunded_beyond_credit=beyond,
    )
