"""Statuses of checkouts, autopay mandates, installment charges and processor refunds."""
from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    """What a checkout pays: all that is due now, a part of it the patient named, one plan
    installment; or, in setup mode, a saved payment method for autopay."""

    BALANCE = "balance"
    PARTIAL = "partial"
    INSTALLMENT = "installment"
    SETUP = "setup"


class CheckoutStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"  # paid, and the ledger line posted
    EXPIRED = "expired"
    REVIEW = "review"  # paid, but not as asked (amount or account): a representative decides


class MandateStatus(StrEnum):
    PENDING = "pending"  # setup link sent, no payment method saved yet
    ACTIVE = "active"
    STOPPED = "stopped"  # by the patient ("stop autopay") or because the plan ended


class ChargeStatus(StrEnum):
    CHARGING = "charging"  # claimed: the request is (or may be) with the processor
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    ACTION_REQUIRED = "action_required"  # the bank wants the patient to authenticate


FAILED = frozenset({ChargeStatus.DECLINED, ChargeStatus.ACTION_REQUIRED})


class ProcessorRefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# The processor refund's status moves forward only: an older event arriving late changes nothing.
REFUND_ORDER = {ProcessorRefundStatus.PENDING: 0, ProcessorRefundStatus.SUCCEEDED: 1,
                ProcessorRefundStatus.FAILED: 1, ProcessorRefundStatus.CANCELED: 1}
