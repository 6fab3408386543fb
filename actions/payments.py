"""Paying by link (when the clinic takes payments through Stripe) and turning autopay off:
thin actions over billing.payments; what they say is billing.payments.notices' wording."""
from __future__ import annotations

import logging
from typing import Any

from actions import templates as t
from actions.base import AccountAction, Turn
from actions.parsing import parse_payment_amount, wants_installment
from billing.accounts import AccountSnapshot
from billing.core.balances import compute_balance
from billing.errors import RequestError
from billing.payments import notices
from billing.payments.autopay import offer_setup, stop_autopay
from billing.payments.checkout import PaymentRefused, request_payment
from billing.payments.config import page_settings, processor_from
from billing.payments.enums import Purpose
from billing.payments.processor import ProcessorError

log = logging.getLogger(__name__)


def payment_replies(turn: Turn, account: AccountSnapshot) -> list[str]:
    """A link for what the message asks to pay (all due now, 'pay 40', the next installment),
    or why there is none. Without a processor: the static link, as before."""
    processor = processor_from(turn.settings)
    if processor is None:
        due_now = compute_balance(account.items).due_now
        return t.make_payment(due_now, turn.settings.payment_link, turn.settings.payment_methods)
    page = page_settings(turn.settings)
    amount = parse_payment_amount(turn.text)
    if amount is None and turn.entity("amount"):
        amount = parse_payment_amount(turn.entity("amount"))
    try:
        opened = request_payment(session=turn.session, processor=processor,
                                 patient_id=account.patient_id, amount=amount,
                                 installment=wants_installment(turn.text),
                                 sender_key=turn.sender_key, now=turn.now, page=page)
    except PaymentRefused as refused:
        return [_refusal(turn, refused)]
    except ProcessorError:
        log.warning("no payment link: the processor refused or did not answer")
        return [notices.unavailable(turn.settings.payment_link, turn.settings.clinic_phone)]
    checkout = opened.checkout
    if checkout.purpose == Purpose.INSTALLMENT and account.active_plan is not None:
        return [notices.installment_link(checkout.amount_cents, account.active_plan.next_due,
                                         opened.url, page.ttl_minutes)]
    return [notices.payment_link(checkout.amount_cents, opened.url, page.ttl_minutes)]


def _refusal(turn: Turn, refused: PaymentRefused) -> str:
    if refused.kind == "not_positive":
        return notices.not_positive()
    if refused.kind == "over_owed":
        return notices.over_owed(refused.amount, refused.due_now)
    if refused.kind == "no_installment":
        return notices.no_installment()
    return t.make_payment(refused.due_now, turn.settings.payment_link,
                          turn.settings.payment_methods)[0]


def autopay_offer(turn: Turn, plan_id: int) -> list[str]:
    """After a plan is created: a page to save a card for autopay (nothing without Stripe)."""
    processor = processor_from(turn.settings)
    if processor is None:
        return []
    page = page_settings(turn.settings)
    try:
        with turn.session.begin_nested():
            opened = offer_setup(session=turn.session, processor=processor, plan_id=plan_id,
                                 sender_key=turn.sender_key, now=turn.now, page=page)
    except (ProcessorError, RequestError):
        log.warning("no autopay setup link for a new plan")
        return []
    return [notices.autopay_setup(opened.url, page.ttl_minutes)]


class StopAutopay(AccountAction):
    NAME = "action_stop_autopay"
    audit_action = "stop_autopay"

    def answer(self, turn: Turn, account: AccountSnapshot) -> list[dict[str, Any]]:
        stopped = stop_autopay(session=turn.session, patient_id=account.patient_id, now=turn.now)
        turn.say(notices.autopay_stopped() if stopped else notices.autopay_none())
        return []
