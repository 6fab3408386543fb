"""How each visit's charge became what the patient owes, in plain words.

A pure function over the allocated balance (billing.core.balances): what insurance paid, the insurer's
contractual discount, other adjustments (a self-pay discount), what the patient paid and when,
what was moved or refunded, what is left and what waits on insurance. The assistant says it when
a patient asks why they owe what they owe, and the statement prints it. The sentences are the
catalogue's (clinic.wording, explain.*): rules here, words there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing.core.allocation import TRANSFER, Applied
from billing.core.balances import Balance, VisitLine
from billing.core.ledger import EntryType, LineItem
from billing.core.money import Cents, fmt
from clinic.wording import day, text


@dataclass(frozen=True)
class VisitExplanation:
    visit: VisitLine
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def _day(d: date | None) -> str:
    return day(d) if d else text("date.unknown")


def _adjustment_name(item: LineItem | Applied, description: str | None) -> str:
    name = (description or "").strip()
    return name[0].lower() + name[1:] if name else text("explain.an_adjustment")


def _paid_sentence(amount: Cents, on: date, whole: Cents | None = None) -> str:
    if whole is not None and whole != amount:
        return text("explain.paid_part", amount=fmt(amount), whole=fmt(whole), date=_day(on))
    return text("explain.paid", amount=fmt(amount), date=_day(on))


def explain_visit(v: VisitLine, items_by_id: dict[str, LineItem]) -> VisitExplanation:
    """The sentences for one visit, in the order the money moved."""
    say: list[str] = []
    if v.service_date:
        say.append(text("explain.charge_on", description=v.description,
                         date=_day(v.service_date), amount=fmt(v.charge)))
    else:
        say.append(text("explain.charge", description=v.description, amount=fmt(v.charge)))
    claim_ins = sum(i.amount for i in v.lines if i.type is EntryType.INSURANCE_PAYMENT)
    if claim_ins:
        say.append(text("explain.insurance_paid", amount=fmt(claim_ins)))
    if v.insurance_adjustments:
        say.append(text("explain.contractual", amount=fmt(v.insurance_adjustments)))
    for i in v.lines:
        if i.type is EntryType.PATIENT_ADJUSTMENT:
            say.append(text("explain.adjustment", amount=fmt(i.amount),
                            name=_adjustment_name(i, i.description)))
    for i in sorted((i for i in v.lines if i.type is EntryType.PATIENT_PAYMENT),
                    key=lambda i: (i.posted_date, i.entry_id)):
        say.append(_paid_sentence(i.amount, i.posted_date))
    for a in v.applied:
        source = items_by_id.get(a.entry_id)
        if a.kind == TRANSFER:
            say.append(text("explain.transfer", amount=fmt(a.amount)))
        elif a.is_adjustment:
            name = _adjustment_name(a, source.description if source else None)
            say.append(text("explain.adjustment", amount=fmt(a.amount), name=name))
        elif a.kind == EntryType.INSURANCE_PAYMENT:
            say.append(text("explain.insurance_paid_on", amount=fmt(a.amount),
                            date=_day(a.posted_date)))
        else:
            say.append(_paid_sentence(a.amount, a.posted_date,
                                      source.amount if source else None))
    if v.refunded:
        say.append(text("explain.refunded", amount=fmt(v.refunded)))
    if v.overpaid:
        say.append(text("explain.overpaid", amount=fmt(v.overpaid)))
    if v.pending_insurance:
        say.append(text("explain.pending", amount=fmt(v.pending_insurance)))
    elif v.remaining and v.due_date:
        say.append(text("explain.left_due", amount=fmt(v.remaining), date=_day(v.due_date)))
    elif v.remaining:
        say.append(text("explain.left", amount=fmt(v.remaining)))
    else:
        say.append(text("explain.nothing_left"))
    return VisitExplanation(v, tuple(say))


def explain(balance: Balance, items: list[LineItem] | tuple[LineItem, ...]) -> list[
        VisitExplanation]:
    """Every visit's explanation, oldest visit first."""
    by_id = {i.entry_id: i for i in items}
    return [explain_visit(v, by_id) for v in balance.visits]
