"""What the payments feature tells a patient (receipts, links, autopay): each function picks
the catalogue's message ids (clinic.wording) and fills them with amounts formatted once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing.core.money import Cents, fmt
from clinic.wording import day
from clinic.wording import text as _


@dataclass(frozen=True)
class Notice:
    """Texts for one sender (the gateway's sender key: 'sms:+1555...', 'telegram:42')."""

    sender_key: str
    texts: tuple[str, ...]


def payment_link(amount: Cents, link: str, minutes: int) -> str:
    """The link paying `amount`, and how long it works."""
    return _("pay.link", amount=fmt(amount), link=link, minutes=minutes)


def installment_link(amount: Cents, due: date, link: str, minutes: int) -> str:
    """The link paying one plan installment, with its due date."""
    return _("pay.link.installment", amount=fmt(amount), due_date=day(due), link=link,
             minutes=minutes)


def over_owed(amount: Cents, due_now: Cents) -> str:
    """Why an amount above what is owed makes no link."""
    return _("pay.over_owed", amount=fmt(amount), due_now=fmt(due_now))


def not_positive() -> str:
    """Why zero or a negative amount makes no link."""
    return _("pay.not_positive")


def no_installment() -> str:
    """Why 'pay the installment' makes no link without a plan."""
    return _("pay.no_installment")


def unavailable(link: str, clinic_phone: str) -> str:
    """The processor made no link: the static link and the phone instead."""
    return _("pay.unavailable", link=link, clinic_phone=clinic_phone)


def receipt(amount: Cents, due_now: Cents, credit: Cents) -> str:
    """The receipt, with what is owed now (or the credit) as the database has it after the
    payment."""
    if due_now <= 0 and credit > 0:
        return _("pay.receipt.credit", amount=fmt(amount), credit=fmt(credit))
    return _("pay.receipt", amount=fmt(amount), balance=fmt(max(due_now, 0)))


def under_review() -> str:
    """A payment that did not match its link: a representative will check it."""
    return _("pay.review")


def autopay_setup(link: str, minutes: int) -> str:
    """The page to save a card for the plan's autopay."""
    return _("autopay.setup", link=link, minutes=minutes)


def autopay_on() -> str:
    """The card is saved: installments are charged on their due dates."""
    return _("autopay.on")


def autopay_stopped() -> str:
    """Autopay turned off at the patient's request."""
    return _("autopay.stopped")


def autopay_none() -> str:
    """'stop autopay' with no autopay on."""
    return _("autopay.none")


def charge_failed(amount: Cents, link: str | None, action_required: bool) -> str:
    """An installment charge declined (or waiting for the bank's check), with a link to pay it."""
    if link is None:
        return _("autopay.declined.no_link", amount=fmt(amount))
    return _("autopay.action_required" if action_required else "autopay.declined",
             amount=fmt(amount), link=link)


def delinquent() -> str:
    """The plan's retries are used up: a representative will call."""
    return _("autopay.delinquent")


def refund_to_card(amount: Cents) -> str:
    """A refund the processor sent back to the card."""
    return _("refund.to_card", amount=fmt(amount))
