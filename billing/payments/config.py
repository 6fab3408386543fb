"""The payment processor and checkout settings from the clinic's settings object (read as
attributes: billing never imports clinic.settings). None when no processor is configured:
then PAYMENT_LINK stays the static link patients are sent."""
from __future__ import annotations

import re
from typing import Protocol

from billing.payments.checkout import PageSettings
from billing.payments.processor import PaymentProcessor

_NOT_IN_DESCRIPTOR = re.compile(r"[<>\\'\"*]")
DESCRIPTOR_CHARS = 22


class PaymentSettings(Protocol):
    stripe_secret_key: str
    stripe_webhook_secret: str
    stripe_api_base: str
    stripe_statement_descriptor: str
    clinic_name: str
    public_base_url: str
    payment_link_ttl_minutes: int


def processor_from(settings: PaymentSettings) -> PaymentProcessor | None:
    """StripeProcessor with STRIPE_SECRET_KEY, or None."""
    if not settings.stripe_secret_key:
        return None
    from billing.payments.stripe_processor import StripeProcessor

    return StripeProcessor(secret_key=settings.stripe_secret_key,
                           webhook_secret=settings.stripe_webhook_secret,
                           api_base=settings.stripe_api_base)


def descriptor(settings: PaymentSettings) -> str:
    """The card statement suffix: STRIPE_STATEMENT_DESCRIPTOR, else the clinic's name."""
    raw = settings.stripe_statement_descriptor or settings.clinic_name
    return " ".join(_NOT_IN_DESCRIPTOR.sub("", raw).split())[:DESCRIPTOR_CHARS].strip()


def page_settings(settings: PaymentSettings) -> PageSettings:
    """Expiry, return pages and descriptor of every checkout."""
    base = settings.public_base_url.rstrip("/")
    return PageSettings(ttl_minutes=settings.payment_link_ttl_minutes,
                        success_url=f"{base}/payments/done",
                        cancel_url=f"{base}/payments/cancelled",
                        descriptor=descriptor(settings))
