"""Email consent, kept like SMS's (bot.message_store): the opt-out record of each address
(one-click unsubscribe, the unsubscribe page) mirrored on the patients with that address, and
the relay's bounces, which mark the address failing so nothing more is sent to it and the
representative sees it on the account. Plain functions over an engine, one transaction each."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from billing import audit
from billing.db.models import Patient
from bot.messaging_models import EmailOptOut


def normal(address: str) -> str:
    """The form addresses are compared in: trimmed, lower-cased."""
    return address.strip().lower()


def _patients(address: str):
    return func.lower(Patient.email) == normal(address)


def is_suppressed(engine: Engine, address: str) -> bool:
    """True when nothing may be emailed to this address: opted out, or failing (bounced)."""
    with Session(engine) as s:
        if s.scalars(select(EmailOptOut.opted_out)
                     .where(EmailOptOut.address == normal(address))).first():
            return True
        return s.scalars(select(Patient.id).where(
            _patients(address), Patient.email_failing_at.is_not(None)).limit(1)).first() is not None


def record_opt_out(engine: Engine, address: str, source: str, now: datetime) -> int:
    """Record (or renew) the address's opt-out and mark its patients; returns how many
    patients have the address."""
    with Session(engine) as s, s.begin():
        row = s.scalars(select(EmailOptOut).where(EmailOptOut.address == normal(address))).first()
        if row is None:
            s.add(EmailOptOut(address=normal(address), opted_out=True, opted_out_at=now,
                              source=source))
        elif not row.opted_out:
            row.opted_out, row.opted_out_at, row.source = True, now, source
        ids = list(s.scalars(select(Patient.id).where(_patients(address))))
        s.execute(update(Patient).where(Patient.id.in_(ids)).values(email_opted_out_at=now))
        for pid in ids:
            audit.record(s, "email", "email_opt_out", pid, at=now, source=source)
        return len(ids)


def record_opt_in(engine: Engine, address: str, source: str, now: datetime) -> None:
    """The address accepts billing email again (the patient asked a representative)."""
    with Session(engine) as s, s.begin():
        row = s.scalars(select(EmailOptOut).where(EmailOptOut.address == normal(address))).first()
        if row is None:
            s.add(EmailOptOut(address=normal(address), opted_out=False, opted_in_at=now,
                              source=source))
        else:
            row.opted_out, row.opted_in_at, row.source = False, now, source
        s.execute(update(Patient).where(_patients(address)).values(email_opted_out_at=None))


def record_failing(engine: Engine, address: str, code: str, now: datetime) -> int:
    """The relay bounced mail to this address for good: mark its patients failing (the
    console shows it); returns how many patients have the address."""
    with Session(engine) as s, s.begin():
        ids = list(s.scalars(select(Patient.id).where(_patients(address))))
        s.execute(update(Patient).where(Patient.id.in_(ids))
                  .values(email_failing_at=now, email_failure=code[:16]))
        for pid in ids:
            audit.record(s, "email", "email_failing", pid, at=now, code=code[:16])
        return len(ids)
