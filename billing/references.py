"""Short case references a patient can read out ('D-7K2QXM', 'R-...'), and the UTC instant
every feature stores."""
from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

_REF_ALPHABET = string.ascii_uppercase + string.digits


def new_reference(session: Session, prefix: str, column) -> str:
    """prefix + 6 random letters or digits, not yet used in `column`."""
    while True:
        ref = prefix + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
        if session.scalars(select(column).where(column == ref)).first() is None:
            return ref


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC; naive datetimes raise ValueError instead of being guessed."""
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC)
