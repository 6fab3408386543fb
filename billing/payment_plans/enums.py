from __future__ import annotations

from enum import StrEnum


class PlanStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DELINQUENT = "delinquent"  # autopay kept failing past the clinic's retries: a rep's case


class InstallmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    PAID = "paid"
    MISSED = "missed"
