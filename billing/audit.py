"""The audit trail: who saw or changed which account, and when.

detail carries ids and kinds only (entry ids, counts, channel names), never names,
dates of birth or amounts as text, so the log can be read without exposing patient data.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from billing.core.clock import utcnow
from billing.db.models import AuditLog

_ALLOWED = (str, int, bool, type(None))


def record(
    session: Session,
    actor: str,
    action: str,
    patient_id: int | None,
    *,
    at: datetime | None = None,
    **detail: object,
) -> None:
    """Add one audit row to the caller's transaction (the caller commits)."""
    clean: dict[str, object] = {}
    for key, value in detail.items():
        if isinstance(value, (list, tuple)):
            value = [v for v in value if isinstance(v, _ALLOWED)]
        elif isinstance(value, dict):
            value = {str(k): v for k, v in value.items() if isinstance(v, _ALLOWED)}
        elif not isinstance(value, _ALLOWED):
            value = str(value)
        clean[key] = value
    session.add(
        AuditLog(
            at=at or utcnow(),
            actor=actor,
            action=action,
            patient_id=patient_id,
            detail=clean or None,
        )
    )
