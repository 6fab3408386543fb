"""The clinic's own price list and payer contracts, as plain values for the billing checks.

A representative checks a bill against these two: the chargemaster says what each CPT code
is priced at, the fee schedule what each payer agreed to allow for it over a period. Pure
types and look-ups (no I/O); billing.price_list_store reads them from the database.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from billing.core.chargemaster import PriceEntry
from billing.core.money import Cents


def payer_key(payer: str) -> str:
    """Payers are matched by name as exports spell them, ignoring case and spacing."""
    return " ".join(payer.split()).casefold()


def base_code(cpt_code: str) -> str:
    """'99213-25' -> '99213': a modifier does not change which price list line applies."""
    return cpt_code.split("-", 1)[0].upper()


@dataclass(frozen=True)
class ContractRate:
    """What a payer allows for one CPT code on services from effective_date to termination_date."""

    payer: str
    cpt_code: str
    allowed: Cents
    effective_date: date
    termination_date: date | None = None

    def active_on(self, day: date) -> bool:
        return self.effective_date <= day and (
            self.termination_date is None or day <= self.termination_date
        )

    def overlaps(self, other: ContractRate) -> bool:
        """Two periods share a day (an open end runs forever)."""
        far = date.max
        return (self.effective_date <= (other.termination_date or far)
                and other.effective_date <= (self.termination_date or far))


@dataclass(frozen=True)
class FeeSchedule:
    """Contracted allowed amounts by payer, code and service date; periods never overlap."""

    rates: tuple[ContractRate, ...] = ()
    _index: dict[tuple[str, str], list[ContractRate]] = field(
        init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        for r in self.rates:
            self._index.setdefault((payer_key(r.payer), base_code(r.cpt_code)), []).append(r)

    def __bool__(self) -> bool:
        return bool(self.rates)

    def allowed_for(self, payer: str, cpt_code: str, day: date) -> Cents | None:
        """The contracted allowed amount, or None when the contract says nothing about it."""
        for r in self._index.get((payer_key(payer), base_code(cpt_code)), ()):
            if r.active_on(day):
                return r.allowed
        return None


def overlapping(rates: Iterable[ContractRate]) -> list[tuple[ContractRate, ContractRate]]:
    """Pairs (earlier, later) of rates for the same payer and code whose periods overlap."""
    groups: dict[tuple[str, str], list[ContractRate]] = {}
    for r in rates:
        groups.setdefault((payer_key(r.payer), base_code(r.cpt_code)), []).append(r)
    pairs: list[tuple[ContractRate, ContractRate]] = []
    for group in groups.values():
        group.sort(key=lambda r: r.effective_date)
        for i, later in enumerate(group):
            pairs.extend((earlier, later) for earlier in group[:i] if earlier.overlaps(later))
    return pairs


@dataclass(frozen=True)
class ClinicPrices:
    """What the clinic imported: its chargemaster (by CPT code) and its payer contracts.

    An empty chargemaster means the clinic imported none: the shipped price list is the
    demo's, good for estimates but not for judging the clinic's own charges.
    """

    chargemaster: Mapping[str, PriceEntry] = field(default_factory=dict)
    fee_schedule: FeeSchedule = field(default_factory=FeeSchedule)
