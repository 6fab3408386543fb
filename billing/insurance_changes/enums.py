from __future__ import annotations

from enum import StrEnum


class InsuranceChangeStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
