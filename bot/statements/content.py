"""What a statement says, computed once from the database by the billing core's rules: the
balance and its visits (billing.core.balances, the one allocation rule), each visit explained
(billing.core.explanation), the aging (billing.core.aging), the plan options
(billing.core.plans.statement_options) and the clinic's details. The PDF, the email notice
and the print batch's manifest all read this; the statement page computes the same balance.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from actions.plans import plan_policy
from billing.accounts import UnknownAccount, load_snapshot
from billing.core.aging import Aging, age_account
from billing.core.balances import Balance, compute_balance
from billing.core.explanation import VisitExplanation, explain
from billing.core.plans import PlanOffer, add_months, statement_options
from billing.db.models import Patient
from clinic.settings import Settings


@dataclass(frozen=True)
class MailingAddress:
    name: str
    line1: str
    line2: str | None
    city: str
    state: str
    zip: str

    def lines(self) -> list[str]:
        """The address block as USPS prints it: name, street lines, 'CITY ST ZIP'."""
        street = [self.line1, *([self.line2] if self.line2 else [])]
        return [self.name, *street, f"{self.city} {self.state} {self.zip}"]


def mailing_address(p: Patient) -> MailingAddress | None:
    """The patient's mailing address, or None when the import gave none (or only a state)."""
    if not (p.address_line1 and p.city and p.state and p.zip):
        return None
    return MailingAddress(f"{p.first_name} {p.last_name}", p.address_line1, p.address_line2,
                          p.city, p.state, p.zip)


@dataclass(frozen=True)
class Clinic:
    name: str
    address_lines: tuple[str, ...]
    phone: str
    office_hours: str
    payment_link: str
    payment_methods: str
    assistance_link: str

    @classmethod
    def from_settings(cls, s: Settings) -> Clinic:
        """The clinic's details as statements print them (CLINIC_*, PAYMENT_*, ASSISTANCE_LINK)."""
        lines = tuple(part.strip() for part in s.clinic_address.split(";") if part.strip())
        return cls(s.clinic_name, lines, s.clinic_phone, s.office_hours, s.payment_link.strip(),
                   s.payment_methods, s.assistance_link)


@dataclass(frozen=True)
class StatementContent:
    clinic: Clinic
    statement_date: date
    patient_id: int
    account_number: str
    patient_name: str
    first_name: str
    lang: str
    address: MailingAddress | None
    balance: Balance
    explained: tuple[VisitExplanation, ...]
    aging: Aging
    plans: PlanOffer

    @property
    def due_now(self):
        return self.balance.due_now

    @property
    def past_due(self) -> bool:
        due = self.balance.due_date
        return bool(self.balance.due_now > 0 and due is not None and due < self.statement_date)


def statement_content(session: Session, patient_id: int, settings: Settings, on: date,
                      clinic: Clinic | None = None) -> StatementContent:
    """The statement of one account as of `on` (the statement date); UnknownAccount if none.
    The plans start one month after the statement date, as the assistant's do from today."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise UnknownAccount(f"no patient with id {patient_id}")
    snapshot = load_snapshot(session, patient_id)
    balance = compute_balance(snapshot.items)
    return StatementContent(
        clinic=clinic or Clinic.from_settings(settings),
        statement_date=on,
        patient_id=patient_id,
        account_number=snapshot.account_number,
        patient_name=f"{patient.first_name} {patient.last_name}",
        first_name=patient.first_name,
        lang=patient.language or "en",
        address=mailing_address(patient),
        balance=balance,
        explained=tuple(explain(balance, snapshot.items)),
        aging=age_account(snapshot.items, on),
        plans=statement_options(balance.due_now, add_months(on, 1), plan_policy(settings)),
    )
