from __future__ import annotations

from enum import StrEnum


class PlanStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InstallmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    PAID = "paid"
    MISSED = "missed"
