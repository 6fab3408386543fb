"""The small interface billbot needs from a payment processor, in its own neutral terms:
hosted pages (pay an amount, or save a payment method), an off-session charge, a refund, the
processor's signed events, and its transactions for reconciliation. StripeProcessor
(billing/payments/stripe_processor.py) is the one implementation; another processor is
another class here, and nothing else changes."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from billing.core.money import Cents

CURRENCY = "usd"  # billbot's amounts are US cents
NO_CENTS = Cents(0)


class ProcessorError(Exception):
    """The processor refused a request (a bad parameter, a closed account): nothing happened."""


class ProcessorUnavailable(ProcessorError):
    """No answer, or a server error: the request may or may not have been carried out."""


class BadSignature(ValueError):
    """An event whose signature is missing, wrong or too old: it is not believed."""


@dataclass(frozen=True)
class PageRequest:
    """A hosted page for one account: pay `amount` (payment mode) or save a payment method
    (setup mode, amount 0, for the processor customer `customer_ref`)."""

    account_number: str
    purpose: str
    amount: Cents
    reference: str  # billbot's own reference, in the page's metadata
    description: str
    expires_at: datetime
    success_url: str
    cancel_url: str
    descriptor: str  # what the card statement shows after the account's own prefix
    customer_ref: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HostedPage:
    ref: str  # the processor's id of the page (a Checkout Session id)
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class SavedMethod:
    customer_ref: str
    method_ref: str


@dataclass(frozen=True)
class ChargeOutcome:
    """succeeded, declined or action_required; payment_ref once the processor made one."""

    status: str
    payment_ref: str | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class RefundOutcome:
    refund_ref: str
    status: str  # pending, succeeded, failed, canceled


@dataclass(frozen=True)
class Event:
    """A verified processor event in neutral terms. kind is one of:
    page_completed (ref: the page; paid tells whether the money is in), page_expired,
    page_payment_succeeded (a delayed payment of a page came in), payment_succeeded (an
    off-session charge), refund_updated (ref: the refund), or ignored."""

    event_ref: str
    kind: str
    ref: str = ""
    mode: str = ""  # payment | setup, for pages
    paid: bool = False
    amount: Cents = NO_CENTS
    currency: str = ""
    payment_ref: str | None = None
    setup_ref: str | None = None
    status: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transaction:
    """One money movement at the processor: a payment (with its fee) or a refund."""

    kind: str  # payment | refund
    ref: str  # the payment's or the refund's own id, as the ledger line's entry id holds it
    payment_ref: str
    amount: Cents
    fee: Cents
    created: datetime
    status: str


class PaymentProcessor(ABC):
    """What billbot asks of a processor. Errors: ProcessorError (refused), ProcessorUnavailable
    (outcome unknown), BadSignature (parse_event)."""

    name: str = ""

    @abstractmethod
    def create_page(self, request: PageRequest) -> HostedPage:
        """A hosted page: payment mode for an amount, setup mode when request.amount is 0."""

    @abstractmethod
    def create_customer(self, *, account_number: str, idempotency_key: str) -> str:
        """A customer record to save a payment method on; its id."""

    @abstractmethod
    def saved_method(self, setup_ref: str) -> SavedMethod:
        """The payment method a completed setup saved."""

    @abstractmethod
    def charge_saved(self, *, amount: Cents, customer_ref: str, method_ref: str,
                     idempotency_key: str, descriptor: str,
                     metadata: dict[str, str]) -> ChargeOutcome:
        """Charge a saved method off-session. The same idempotency_key is the same charge."""

    @abstractmethod
    def refund(self, *, payment_ref: str, amount: Cents, idempotency_key: str,
               metadata: dict[str, str]) -> RefundOutcome:
        """Refund (part of) a payment; the same idempotency_key is the same refund."""

    @abstractmethod
    def parse_event(self, payload: bytes, signature: str | None) -> Event:
        """Verify the signature over the raw body and read the event (BadSignature if not)."""

    @abstractmethod
    def transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        """Payments and refunds created in [start, end)."""
