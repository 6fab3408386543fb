"""How each visit's charge became what the patient owes, in plain words.

A pure function over the allocated balance (billing.core.balances): what insurance paid, the insurer's
contractual discount, other adjustments (a self-pay discount), what the patient paid and when,
what was moved or refunded, what is left and what waits on insurance. The assistant says it when
a patient asks why they owe what they owe, and the statement prints it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing.core.allocation import TRANSFER, Applied
from billing.core.balances import Balance, VisitLine
from billing.core.ledger import EntryType, LineItem
from billing.core.money import Cents, fmt


@dataclass(frozen=True)
class VisitExplanation:
    visit: VisitLine
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def _day(d: date | None) -> str:
    return f"{d:%b} {d.day}, {d.year}" if d else "an unknown date"


def _adjustment_name(item: LineItem | Applied, description: str | None) -> str:
    text = (description or "").strip()
    return text[0].lower() + text[1:] if text else "an adjustment"


def _paid_sentence(amount: Cents, day: date, whole: Cents | None = None) -> str:
    if whole is not None and whole != amount:
        return f"{fmt(amount)} of your {fmt(whole)} payment on {_day(day)} went to it."
    return f"You paid {fmt(amount)} on {_day(day)}."


def explain_visit(v: VisitLine, items_by_id: dict[str, LineItem]) -> VisitExplanation:
    """The sentences for one visit, in the order the money moved."""
    say: list[str] = []
    when = f" on {_day(v.service_date)}" if v.service_date else ""
    say.append(f"{v.description}{when}: the charge was {fmt(v.charge)}.")
    claim_ins = sum(i.amount for i in v.lines if i.type is EntryType.INSURANCE_PAYMENT)
    if claim_ins:
        say.append(f"Your insurance paid {fmt(claim_ins)}.")
    if v.insurance_adjustments:
        say.append(f"Your insurer's contract with us took {fmt(v.insurance_adjustments)} off "
                   "(a contractual discount you don't owe).")
    for i in v.lines:
        if i.type is EntryType.PATIENT_ADJUSTMENT:
            say.append(f"We took {fmt(i.amount)} off: {_adjustment_name(i, i.description)}.")
    for i in sorted((i for i in v.lines if i.type is EntryType.PATIENT_PAYMENT),
                    key=lambda i: (i.posted_date, i.entry_id)):
        say.append(_paid_sentence(i.amount, i.posted_date))
    for a in v.applied:
        source = items_by_id.get(a.entry_id)
        if a.kind == TRANSFER:
            say.append(f"{fmt(a.amount)} you paid beyond another visit's share was applied "
                       "to it.")
        elif a.is_adjustment:
            name = _adjustment_name(a, source.description if source else None)
            say.append(f"We took {fmt(a.amount)} off: {name}.")
        elif a.kind == EntryType.INSURANCE_PAYMENT:
            say.append(f"Your insurance paid {fmt(a.amount)} on {_day(a.posted_date)}.")
        else:
            say.append(_paid_sentence(a.amount, a.posted_date,
                                      source.amount if source else None))
    if v.refunded:
        say.append(f"{fmt(v.refunded)} of what you paid was refunded to you.")
    if v.overpaid:
        say.append(f"You paid {fmt(v.overpaid)} more than this visit needed; it went to your "
                   "other visits or is a credit on your account.")
    if v.pending_insurance:
        say.append(f"{fmt(v.pending_insurance)} is waiting on your insurance. You don't owe it "
                   "until they decide.")
    elif v.remaining:
        due = f", due by {_day(v.due_date)}" if v.due_date else ""
        say.append(f"Left to pay: {fmt(v.remaining)}{due}.")
    else:
        say.append("Nothing is left to pay on it.")
    return VisitExplanation(v, tuple(say))


def explain(balance: Balance, items: list[LineItem] | tuple[LineItem, ...]) -> list[
        VisitExplanation]:
    """Every visit's explanation, oldest visit first."""
    by_id = {i.entry_id: i for i in items}
    return [explain_visit(v, by_id) for v in balance.visits]
