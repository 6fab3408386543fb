"""Stripe behind the PaymentProcessor interface, through the official `stripe` SDK
(StripeClient; api_base is STRIPE_API_BASE, a local double in the tests). Checkout Sessions
are the hosted pages, PaymentIntents the off-session charges, Refunds the refunds; webhook
events are verified by the SDK (Stripe-Signature: a timestamped HMAC-SHA256)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import stripe

from billing.core.money import Cents
from billing.payments.processor import (
    CURRENCY,
    BadSignature,
    ChargeOutcome,
    Event,
    HostedPage,
    PageRequest,
    PaymentProcessor,
    ProcessorError,
    ProcessorUnavailable,
    RefundOutcome,
    SavedMethod,
    Transaction,
)

SIGNATURE_TOLERANCE_S = 300  # Stripe's own default: an older signature is a replay
_PAGE_KINDS = {
    "checkout.session.completed": "page_completed",
    "checkout.session.expired": "page_expired",
    "checkout.session.async_payment_succeeded": "page_payment_succeeded",
}
_REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")


def _unavailable(err: stripe.StripeError) -> bool:
    return isinstance(err, (stripe.APIConnectionError, stripe.RateLimitError)) or (
        isinstance(err, stripe.APIError) and not isinstance(err, stripe.CardError))


def _text_metadata(values: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (values or {}).items()}


def _ref(value: Any) -> str | None:
    """An id, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


class StripeProcessor(PaymentProcessor):
    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str, api_base: str = "",
                 max_network_retries: int = 2):
        addresses = {"api": api_base.rstrip("/")} if api_base else None
        self.client = stripe.StripeClient(secret_key, base_addresses=addresses,
                                          max_network_retries=max_network_retries)
        self.webhook_secret = webhook_secret

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as err:
            if _unavailable(err):
                raise ProcessorUnavailable(type(err).__name__) from None
            raise ProcessorError(err.code or type(err).__name__) from None

    def create_page(self, request: PageRequest) -> HostedPage:
        metadata = {"billbot_ref": request.reference, "account": request.account_number,
                    "purpose": request.purpose, **request.metadata}
        params: dict[str, Any] = {
            "metadata": metadata, "client_reference_id": request.reference,
            "expires_at": int(request.expires_at.timestamp()),
            "success_url": request.success_url, "cancel_url": request.cancel_url,
        }
        if request.amount > 0:
            params |= {
                "mode": "payment",
                "line_items": [{"quantity": 1, "price_data": {
                    "currency": CURRENCY, "unit_amount": int(request.amount),
                    "product_data": {"name": request.description}}}],
                "payment_intent_data": {"metadata": metadata,
                                        "statement_descriptor_suffix": request.descriptor},
            }
        else:
            params |= {"mode": "setup", "currency": CURRENCY, "customer": request.customer_ref,
                       "payment_method_types": ["card"],
                       "setup_intent_data": {"metadata": metadata}}
        session = self._call(self.client.v1.checkout.sessions.create, params,
                             {"idempotency_key": f"billbot-page-{request.reference}"})
        return HostedPage(ref=session.id, url=session.url,
                          expires_at=datetime.fromtimestamp(session.expires_at, UTC))

    def create_customer(self, *, account_number: str, idempotency_key: str) -> str:
        customer = self._call(self.client.v1.customers.create,
                              {"metadata": {"account": account_number}},
                              {"idempotency_key": idempotency_key})
        return customer.id

    def saved_method(self, setup_ref: str) -> SavedMethod:
        intent = self._call(self.client.v1.setup_intents.retrieve, setup_ref)
        method, customer = _ref(intent.payment_method), _ref(intent.customer)
        if not method or not customer:
            raise ProcessorError("the setup saved no payment method")
        return SavedMethod(customer_ref=customer, method_ref=method)

    def charge_saved(self, *, amount: Cents, customer_ref: str, method_ref: str,
                     idempotency_key: str, descriptor: str,
                     metadata: dict[str, str]) -> ChargeOutcome:
        params = {"amount": int(amount), "currency": CURRENCY, "customer": customer_ref,
                  "payment_method": method_ref, "off_session": True, "confirm": True,
                  "metadata": metadata, "statement_descriptor_suffix": descriptor}
        try:
            intent = self.client.v1.payment_intents.create(
                params, {"idempotency_key": idempotency_key})
        except stripe.CardError as err:
            body = err.json_body.get("error", {}) if isinstance(err.json_body, dict) else {}
            ref = _ref(body.get("payment_intent"))
            if err.code == "authentication_required":
                return ChargeOutcome("action_required", ref, err.code)
            return ChargeOutcome("declined", ref, body.get("decline_code") or err.code)
        except stripe.StripeError as err:
            if _unavailable(err):
                raise ProcessorUnavailable(type(err).__name__) from None
            raise ProcessorError(err.code or type(err).__name__) from None
        status = {"succeeded": "succeeded", "requires_action": "action_required",
                  "requires_payment_method": "declined"}.get(intent.status, "processing")
        return ChargeOutcome(status, intent.id)

    def refund(self, *, payment_ref: str, amount: Cents, idempotency_key: str,
               metadata: dict[str, str]) -> RefundOutcome:
        refund = self._call(self.client.v1.refunds.create,
                            {"payment_intent": payment_ref, "amount": int(amount),
                             "metadata": metadata},
                            {"idempotency_key": idempotency_key})
        return RefundOutcome(refund.id, refund.status)

    def parse_event(self, payload: bytes, signature: str | None) -> Event:
        if not self.webhook_secret:
            raise BadSignature("no webhook secret is configured")
        try:
            stripe.Webhook.construct_event(payload, signature, self.webhook_secret,
                                           tolerance=SIGNATURE_TOLERANCE_S)
        except (stripe.SignatureVerificationError, ValueError) as err:
            raise BadSignature(str(err) or "bad signature") from None
        raw = json.loads(payload)
        return event_from(raw)

    def transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        window = {"gte": int(start.timestamp()), "lt": int(end.timestamp())}
        found: list[Transaction] = []
        charges = self._call(self.client.v1.charges.list,
                             {"created": window, "limit": 100,
                              "expand": ["data.balance_transaction"]})
        for ch in charges.auto_paging_iter():
            if ch.status != "succeeded" or not ch.payment_intent:
                continue
            bt = ch.balance_transaction
            fee = bt.fee if bt is not None and not isinstance(bt, str) else 0
            found.append(Transaction("payment", _ref(ch.payment_intent), _ref(ch.payment_intent),
                                     Cents(ch.amount), Cents(fee),
                                     datetime.fromtimestamp(ch.created, UTC), ch.status))
        refunds = self._call(self.client.v1.refunds.list, {"created": window, "limit": 100})
        for re_ in refunds.auto_paging_iter():
            found.append(Transaction("refund", re_.id, _ref(re_.payment_intent) or "",
                                     Cents(re_.amount), Cents(0),
                                     datetime.fromtimestamp(re_.created, UTC), re_.status))
        return found


def event_from(raw: dict[str, Any]) -> Event:
    """A Stripe event (already verified) in the interface's neutral terms."""
    kind, obj = raw.get("type", ""), (raw.get("data") or {}).get("object") or {}
    common = {"event_ref": str(raw.get("id", "")), "metadata": _text_metadata(obj.get("metadata"))}
    if kind in _PAGE_KINDS:
        return Event(kind=_PAGE_KINDS[kind], ref=obj.get("id", ""), mode=obj.get("mode", ""),
                     paid=obj.get("payment_status") in ("paid", "no_payment_required")
                     if kind != "checkout.session.async_payment_succeeded" else True,
                     amount=Cents(int(obj.get("amount_total") or 0)),
                     currency=obj.get("currency") or "", payment_ref=_ref(obj.get("payment_intent")),
                     setup_ref=_ref(obj.get("setup_intent")), status=obj.get("status") or "",
                     **common)
    if kind == "payment_intent.succeeded":
        return Event(kind="payment_succeeded", ref=obj.get("id", ""), payment_ref=obj.get("id"),
                     amount=Cents(int(obj.get("amount_received") or 0)),
                     currency=obj.get("currency") or "", status="succeeded", **common)
    if kind in _REFUND_EVENTS:
        return Event(kind="refund_updated", ref=obj.get("id", ""),
                     payment_ref=_ref(obj.get("payment_intent")),
                     amount=Cents(int(obj.get("amount") or 0)), status=obj.get("status") or "",
                     **common)
    return Event(kind="ignored", **common)
