"""A patient's insurance change, and a representative's decision on it. The caller owns the
transaction."""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

from billing.errors import RequestError
from billing.insurance_changes.enums import InsuranceChangeStatus
from billing.insurance_changes.models import InsuranceChange

_MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$")


def record_insurance_change(
    *, session: Session, patient_id: int, payer: str, member_id: str
) -> InsuranceChange:
    """A new payer and member id, pending until a representative confirms them."""
    payer = " ".join((payer or "").split())
    member_id = (member_id or "").strip()
    if not payer or len(payer) > 120:
        raise RequestError("the insurance company name is missing")
    if not _MEMBER_ID.match(member_id):
        raise RequestError("a member id is 3 to 64 letters, digits or dashes")
    change = InsuranceChange(
        patient_id=patient_id, payer=payer, member_id=member_id.upper(),
        status=InsuranceChangeStatus.PENDING,
    )
    session.add(change)
    session.flush()
    return change


def decide_insurance_change(
    *, session: Session, patient_id: int, change_id: int, confirm: bool, actor: str
) -> InsuranceChange:
    """Confirm or reject a pending change of this account."""
    change = session.get(InsuranceChange, change_id)
    if change is None or change.patient_id != patient_id:
        raise RequestError("no such insurance change on this account")
    if change.status != InsuranceChangeStatus.PENDING:
        raise RequestError(f"this insurance change is already {change.status}")
    change.status = InsuranceChangeStatus.CONFIRMED if confirm else InsuranceChangeStatus.REJECTED
    change.decided_by = actor
    session.flush()
    return change
