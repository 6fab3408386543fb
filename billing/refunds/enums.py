"""A refund's status is a ledger value (billing.core.ledger.RefundStatus, which the pure
rules read too); where a refund came from is this feature's own."""
from __future__ import annotations

from enum import StrEnum

from billing.core.ledger import RefundStatus

__all__ = ["ON_ITS_WAY", "RefundSource", "RefundStatus"]

# Requested or approved: the credit is already on its way back, not refundable again.
ON_ITS_WAY = frozenset({RefundStatus.REQUESTED, RefundStatus.APPROVED})


class RefundSource(StrEnum):
    IMPORT = "import"
    PATIENT = "patient"
    REP = "rep"
