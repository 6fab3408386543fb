"""Statuses and reasons of an escalation, and the one priority rule."""
from __future__ import annotations

from enum import StrEnum


class EscalationStatus(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


# Waiting for or held by a representative: the bot stays out while one is assigned.
OPEN = frozenset({EscalationStatus.QUEUED, EscalationStatus.ASSIGNED})


class EscalationReason(StrEnum):
    VERIFICATION_LOCKED = "verification_locked"
    FRUSTRATION = "frustration"
    ASSISTANT_UNAVAILABLE = "assistant_unavailable"  # the gateway could not reach Rasa
    DISPUTE = "dispute"
    REQUEST_HUMAN = "request_human"
    REPRESENTATIVE_TAKEOVER = "representative_takeover"
    LOW_CONFIDENCE = "low_confidence"
    PAYMENT_REVIEW = "payment_review"  # a processor payment that did not match its checkout
    AUTOPAY_FAILED = "autopay_failed"  # a plan's installments kept failing: delinquent


# 1 is the most urgent. An open escalation asked for again takes the more urgent priority.
PRIORITY: dict[EscalationReason, int] = {
    EscalationReason.VERIFICATION_LOCKED: 1,
    EscalationReason.FRUSTRATION: 1,
    EscalationReason.ASSISTANT_UNAVAILABLE: 1,
    EscalationReason.DISPUTE: 2,
    EscalationReason.REQUEST_HUMAN: 2,
    EscalationReason.REPRESENTATIVE_TAKEOVER: 2,
    EscalationReason.LOW_CONFIDENCE: 3,
    EscalationReason.PAYMENT_REVIEW: 2,
    EscalationReason.AUTOPAY_FAILED: 2,
}
