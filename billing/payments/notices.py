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
    return _("pay.link", amount=fmt(amount), link=link, minutes=minutes)


def installment_link(amount: Cents, due: date, link: str, minutes: int) -> str:
    return _("pay.link.installment", amount=fmt(amount), due_date=day(due), link=link,
             minutes=minutes)


def over_owed(amount: Cents, due_now: Cents) -> str:
    return _("pay.over_owed", amount=fmt(amount), due_now=fmt(due_now))


def not_positive() -> str:
    return _("pay.not_positive")


def no_installment() -> str:
    return _("pay.no_installment")


def unavailable(link: str, clinic_phone: str) -> str:
    return _("pay.unavailable", link=link, clinic_phone=clinic_phone)


def receipt(amount: Cents, due_now: Cents, credit: Cents) -> str:
    """The receipt, with what is owed now (or the credit) as the database has it after the
    payment."""
    if due_now <= 0 and credit > 0:
        return _("pay.receipt.credit", amount=fmt(amount), credit=fmt(credit))
    return _("pay.receipt", amount=fmt(amount), balance=fmt(max(due_now, 0)))


def under_review() -> str:
    return _("pay.review")


def autopay_setup(link: str, minutes: int) -> str:
    return _("autopay.setup", link=link, minutes=minutes)


def autopay_on() -> str:
    return _("autopay.on")


def autopay_stopped() -> str:
    return _("autopay.stopped")


def autopay_none() -> str:
    return _("autopay.none")


def charge_failed(amount: Cents, link: str | None, action_required: bool) -> str:
    if link is None:
        return _("autopay.declined.no_link", amount=fmt(amount))
    return _("autopay.action_required" if action_required else "autopay.declined",
             amount=fmt(amount), link=link)


def delinquent() -> str:
    return _("autopay.delinquent")


def refund_to_card(amount: Cents) -> str:
    return _("refund.to_card", amount=fmt(amount))
