"""Reading the clinic's imported chargemaster and fee schedule out of the database.

Callers own the session; nothing here writes. The importer (billing.importer) fills the
tables from chargemaster.csv and fee_schedules.csv.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.core.chargemaster import PriceEntry
from billing.core.price_lists import ClinicPrices, ContractRate, FeeSchedule
from billing.db.models import ChargemasterItem, FeeScheduleRate


def load_clinic_chargemaster(session: Session) -> dict[str, PriceEntry]:
    """The clinic's own price list by CPT code; empty when it imported none."""
    return {
        i.cpt_code: PriceEntry(i.cpt_code, i.description, i.price_cents)
        for i in session.scalars(select(ChargemasterItem).order_by(ChargemasterItem.cpt_code))
    }


def load_fee_schedule(session: Session) -> FeeSchedule:
    """All contracted payer rates in the database as a FeeSchedule, by payer, CPT code, date."""
    rows = session.scalars(
        select(FeeScheduleRate).order_by(
            FeeScheduleRate.payer, FeeScheduleRate.cpt_code, FeeScheduleRate.effective_date)
    )
    return FeeSchedule(tuple(
        ContractRate(r.payer, r.cpt_code, r.allowed_cents, r.effective_date, r.termination_date)
        for r in rows
    ))


def load_clinic_prices(session: Session) -> ClinicPrices:
    """What the representative's checks run against (billing.core.coding_checks)."""
    return ClinicPrices(load_clinic_chargemaster(session), load_fee_schedule(session))
