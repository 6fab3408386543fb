"""Import a practice-management export: patients.csv, coverages.csv, ledger.csv, refunds.csv,
and the clinic's own chargemaster.csv and fee_schedules.csv.

All-or-nothing and idempotent: every row is validated (against the database and the rest of
the import) before anything is written; rows are keyed by their ids, so importing the same
files twice changes nothing and a changed row updates the stored one. The caller owns the
transaction: it commits after import_sources returns, and rolls back on any exception.
Row parsing and checks live in billing.import_rows; this module adds the database.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from billing import audit
from billing.core.clock import utcnow
from billing.core.ledger import EntryType
from billing.core.price_lists import ContractRate, overlapping
from billing.db.models import ChargemasterItem, Coverage, FeeScheduleRate, LedgerEntry, Patient
from billing.import_rows import (  # noqa: F401 - COLUMNS, KINDS, MAX_ERRORS, ImportRowError are API
    COLUMNS,
    KINDS,
    MAX_ERRORS,
    Errors,
    ImportRowError,
    Rec,
    fee_key,
    parse_sources,
)
from billing.refunds.models import Refund, RefundEvent

# The export has no approval date: an approval is dated at the request.
REFUND_PATHS = {
    "requested": ("requested",),
    "approved": ("requested", "approved"),
    "issued": ("requested", "approved", "issued"),
    "rejected": ("requested", "rejected"),
}
CHUNK = 5000


class ImportFailed(Exception):
    """The import was rejected; nothing was written. errors holds the first MAX_ERRORS."""

    def __init__(self, errors: list[ImportRowError], total: int) -> None:
        super().__init__(f"{total} error(s)")
        self.errors, self.total = errors, total


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    refund_events: int = 0

    def lines(self) -> list[str]:
        return [
            f"{kind}: {c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
        ]


@dataclass(frozen=True)
class Source:
    name: str  # shown in error messages
    kind: str  # one of KINDS
    lines: Iterable[str]


def kind_of(name: str) -> str | None:
    """'ledger.csv' and 'ledger_2024.csv' are ledger files."""
    stem = Path(name).name.lower()
    if not stem.endswith(".csv"):
        return None
    stem = stem[:-4]
    for kind in KINDS:
        if stem == kind or stem.startswith((kind + "_", kind + "-")):
            return kind
    return None


def sources_from_paths(paths: Sequence[Path]) -> list[Source]:
    """A directory stands for the known files in it; files are taken as named."""
    errors: list[ImportRowError] = []
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted((f for f in p.iterdir() if kind_of(f.name)), key=lambda f: f.name)
            if not found:
                errors.append(ImportRowError(str(p), 0, f"no {'/'.join(KINDS)} CSV files"))
            files.extend(found)
        elif not p.is_file():
            errors.append(ImportRowError(str(p), 0, "no such file"))
        elif kind_of(p.name) is None:
            names = ", ".join(f"{k}.csv" for k in KINDS[:-1])
            errors.append(ImportRowError(
                str(p), 0, f"file name must be {names} or {KINDS[-1]}.csv"))
        else:
            files.append(p)
    if errors:
        raise ImportFailed(errors, len(errors))
    files.sort(key=lambda f: KINDS.index(kind_of(f.name) or "patients"))
    return [Source(str(f), kind_of(f.name) or "", _read_lines(f)) for f in files]


def _read_lines(path: Path) -> Iterator[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        yield from fh


def source_from_text(name: str, text: str) -> Source:
    """An import Source for text given as a string; the kind comes from the file name."""
    kind = kind_of(name)
    if kind is None:
        raise ValueError(f"not an import file name: {name}")
    return Source(name, kind, io.StringIO(text, newline=""))


# ---------------------------------------------------------------- database look-ups


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _fetch(session: Session, columns: Sequence, key_col, keys: Iterable) -> list:
    keys = sorted(set(keys))
    rows: list = []
    for chunk in _chunks(keys):
        rows.extend(session.execute(select(*columns).where(key_col.in_(chunk))).all())
    return rows


_PATIENT_FIELDS = (
    "first_name", "last_name", "date_of_birth", "phone", "email", "telegram_chat_id",
    "timezone", "preferred_channel", "sms_consent", "address_line1", "address_line2", "city",
    "state", "zip", "email_consent", "language",
)
_COVERAGE_FIELDS = (
    "plan_name", "deductible_cents", "deductible_met_cents", "coinsurance_percent", "copay_cents",
    "out_of_pocket_max_cents", "out_of_pocket_met_cents", "effective_date", "termination_date",
)
_LEDGER_FIELDS = (
    "patient_id", "type", "amount_cents", "posted_date", "service_date", "cpt_code",
    "description", "provider", "claim_id", "claim_status", "method", "due_date",
)
_REFUND_FIELDS = ("patient_id", "amount_cents", "status", "requested_date", "issued_date", "method")
_CHARGEMASTER_FIELDS = ("description", "price_cents")
_FEE_FIELDS = ("payer", "allowed_cents", "termination_date")


def _cols(model, names: Sequence[str]) -> list:
    return [getattr(model, n) for n in names]


def _check_references(
    session: Session, recs: dict[str, list[Rec]], named: set[str], errors: Errors
) -> tuple[dict[str, int], dict[str, tuple]]:
    """Known accounts, entry ownership and claim ids; returns the accounts already stored
    (account number -> patient id) and the stored ledger rows the import names."""
    in_import = {r.account for r in recs["patients"]}
    referenced = {r.account for k in ("coverages", "ledger", "refunds") for r in recs[k]}
    stored = {
        a: i for i, a in _fetch(
            session, (Patient.id, Patient.account_number), Patient.account_number,
            in_import | referenced,
        )
    }
    known = in_import | stored.keys()
    for kind in ("coverages", "ledger", "refunds"):
        for r in recs[kind]:
            if r.account not in known and r.account not in named:
                errors.add(r.file, r.line, f"unknown account number {r.account}")

    id_to_account = {i: a for a, i in stored.items()}
    old_entries = {
        row[0]: row[1:]
        for row in _fetch(
            session, (LedgerEntry.entry_id, LedgerEntry.id, *_cols(LedgerEntry, _LEDGER_FIELDS)),
            LedgerEntry.entry_id, [r.values["entry_id"] for r in recs["ledger"]],
        )
    }
    for r in recs["ledger"]:
        old = old_entries.get(r.values["entry_id"])
        if old is not None and r.account in known and id_to_account.get(old[1]) != r.account:
            errors.add(r.file, r.line, f"entry_id {r.values['entry_id']} belongs to another account")
    old_refunds = _fetch(
        session, (Refund.refund_id, Refund.patient_id), Refund.refund_id,
        [r.values["refund_id"] for r in recs["refunds"]],
    )
    refund_owner = {rid: id_to_account.get(pid) for rid, pid in old_refunds}
    for r in recs["refunds"]:
        rid = r.values["refund_id"]
        if rid in refund_owner and r.account in known and refund_owner[rid] != r.account:
            errors.add(r.file, r.line, f"refund_id {rid} belongs to another account")

    # Claims a payment may name: charges of this import, plus stored charges it does not replace.
    claimed = [r for r in recs["ledger"] if r.values["claim_id"] and r.values["type"] != "charge"]
    if claimed:
        imported = {r.values["entry_id"] for r in recs["ledger"]}
        claims = {
            (r.account, r.values["claim_id"])
            for r in recs["ledger"]
            if r.values["type"] == "charge" and r.values["claim_id"]
        }
        ids = [stored[r.account] for r in claimed if r.account in stored]
        for chunk in _chunks(sorted(set(ids))):
            for eid, pid, claim in session.execute(
                select(LedgerEntry.entry_id, LedgerEntry.patient_id, LedgerEntry.claim_id).where(
                    LedgerEntry.patient_id.in_(chunk),
                    LedgerEntry.type == EntryType.CHARGE.value,
                    LedgerEntry.claim_id.is_not(None),
                )
            ):
                if eid not in imported:
                    claims.add((id_to_account[pid], claim))
        for r in claimed:
            if (r.account, r.values["claim_id"]) not in claims and r.account in known:
                errors.add(
                    r.file, r.line,
                    f"claim_id {r.values['claim_id']} is on no charge of account {r.account}",
                )
    return stored, old_entries


# ---------------------------------------------------------------- writing


def _upsert(session, model, fields, recs, old, counts, key_of, extra=None) -> list[dict]:
    """Insert new rows and update changed ones in bulk; returns the inserted value dicts."""
    new_rows, changed = [], []
    for r in recs:
        values = r.values if extra is None else {**r.values, **extra(r)}
        prev = old.get(key_of(r))
        if prev is None:
            new_rows.append(values)
            counts.inserted += 1
        elif any(prev[1 + i] != values[f] for i, f in enumerate(fields)):
            changed.append({"id": prev[0], **values})
            counts.updated += 1
        else:
            counts.unchanged += 1
    if changed:
        session.execute(update(model), changed)
    return new_rows


def import_sources(
    session: Session,
    sources: Sequence[Source],
    *,
    now: datetime | None = None,
    actor: str = "import",
) -> ImportReport:
    """Validate every row, then write them all; raises ImportFailed having written nothing."""
    now = now or utcnow()
    errors = Errors()
    recs, named = parse_sources(sources, errors, now.date())
    stored, old_entries = _check_references(session, recs, named, errors)
    old_fees = _check_fee_periods(session, recs["fee_schedules"], errors)
    if errors.total:
        errors.items.sort(key=lambda e: (
            next((i for i, s in enumerate(sources) if s.name == e.file), 0), e.line))
        raise ImportFailed(errors.items, errors.total)

    report = ImportReport()
    # patients
    old_patients = {
        row[1]: (row[0], *row[2:])
        for row in _fetch(
            session, (Patient.id, Patient.account_number, *_cols(Patient, _PATIENT_FIELDS),
                      Patient.sms_consent_at, Patient.email_consent_at),
            Patient.account_number, [r.account for r in recs["patients"]],
        )
    }
    for r in recs["patients"]:
        prev = old_patients.get(r.account)
        stored_value = dict(zip(_PATIENT_FIELDS, prev[1:], strict=False)) if prev else {}
        for name in r.absent:  # an optional column the file leaves out keeps what is stored
            if name in stored_value:
                r.values[name] = stored_value[name]
        for kind in ("sms", "email"):
            was_at = prev[-2 if kind == "sms" else -1] if prev else None
            if r.values[f"{kind}_consent"]:
                given_before = bool(stored_value.get(f"{kind}_consent"))
                r.values[f"{kind}_consent_at"] = was_at if given_before else now
            else:
                r.values[f"{kind}_consent_at"] = None
        if "language" not in r.values:  # no language column: keep the stored one
            r.values["language"] = stored_value.get("language") or "en"
        r.values["account_number"] = r.account
    new = _upsert(session, Patient, _PATIENT_FIELDS, recs["patients"], old_patients,
                  report.counts["patients"], lambda r: r.account)
    for chunk in _chunks(new):
        for pid, acct in session.execute(
            insert(Patient).returning(Patient.id, Patient.account_number), list(chunk)
        ):
            stored[acct] = pid

    # coverages
    pids = sorted({stored[r.account] for r in recs["coverages"]})
    old_cov = {
        (row[1], row[2], row[3]): (row[0], *row[4:])
        for row in _fetch(
            session, (Coverage.id, Coverage.patient_id, Coverage.payer, Coverage.member_id,
                      *_cols(Coverage, _COVERAGE_FIELDS)),
            Coverage.patient_id, pids,
        )
    }
    new = _upsert(
        session, Coverage, _COVERAGE_FIELDS, recs["coverages"], old_cov,
        report.counts["coverages"],
        lambda r: (stored[r.account], r.values["payer"], r.values["member_id"]),
        extra=lambda r: {"patient_id": stored[r.account]},
    )
    if new:
        session.execute(Coverage.__table__.insert(), new)

    # ledger
    new = _upsert(
        session, LedgerEntry, _LEDGER_FIELDS, recs["ledger"], old_entries,
        report.counts["ledger"], lambda r: r.values["entry_id"],
        extra=lambda r: {"patient_id": stored[r.account]},
    )
    # Not billing.ledger_posting.post_line: an export brings tens of thousands of lines that
    # carry their own entry ids and were validated row by row above, so one executemany per
    # chunk replaces as many ORM objects and flushes.
    for chunk in _chunks(new):
        session.execute(LedgerEntry.__table__.insert(), list(chunk))

    _write_refunds(session, recs["refunds"], stored, report, actor)
    _write_price_lists(session, recs, old_fees, report)
    changed = any(c.inserted or c.updated for c in report.counts.values()) or report.refund_events
    if changed:  # an import that changed nothing leaves no trace, so re-running it is a no-op
        audit.record(
        session, actor, "import", None, at=now,
            files=[s.name.rsplit("/", 1)[-1] for s in sources],
            **{f"{k}_{what}": getattr(c, what) for k, c in report.counts.items()
               for what in ("inserted", "updated")},
        )
    session.flush()
    return report


def _write_refunds(session, recs: list[Rec], stored: dict[str, int], report, actor) -> None:
    old = {
        row[1]: (row[0], *row[2:])
        for row in _fetch(
            session, (Refund.id, Refund.refund_id, *_cols(Refund, _REFUND_FIELDS)),
            Refund.refund_id, [r.values["refund_id"] for r in recs],
        )
    }
    history: dict[int, list[str]] = {}
    for chunk in _chunks(sorted(v[0] for v in old.values())):
        for rid, status in session.execute(
            select(RefundEvent.refund_id, RefundEvent.status)
            .where(RefundEvent.refund_id.in_(chunk))
            .order_by(RefundEvent.id)
        ):
            history.setdefault(rid, []).append(status)
    counts = report.counts["refunds"]
    new = _upsert(
        session, Refund, _REFUND_FIELDS, recs, old, counts, lambda r: r.values["refund_id"],
        extra=lambda r: {"patient_id": stored[r.account]},
    )
    events: list[dict] = []
    inserted_ids: dict[str, int] = {}
    for chunk in _chunks(new):
        for pk, rid in session.execute(
            insert(Refund).returning(Refund.id, Refund.refund_id), list(chunk)
        ):
            inserted_ids[rid] = pk
    for r in recs:
        rid = r.values["refund_id"]
        pk = inserted_ids.get(rid) or old[rid][0]
        seen = history.get(pk, [])
        status = r.values["status"]
        for step in REFUND_PATHS[status]:
            if step not in seen:
                events.append(_event(pk, step, r.values, actor))
                seen = [*seen, step]
        if seen and seen[-1] != status:  # a correction backwards, e.g. issued -> approved
            events.append({**_event(pk, status, r.values, actor),
                           "note": "status corrected by import"})
    if events:
        session.execute(RefundEvent.__table__.insert(), events)
    report.refund_events = len(events)


def _event(pk: int, status: str, v: dict, actor: str) -> dict:
    if status in ("issued", "rejected") and v["issued_date"]:
        on = v["issued_date"]
    else:
        on = v["requested_date"]
    note = "approval date not in the export" if status == "approved" else None
    return {"refund_id": pk, "status": status, "on_date": on, "actor": actor, "note": note}


# ---------------------------------------------------------------- price list and contracts


def _rate(values: dict) -> ContractRate:
    return ContractRate(values["payer"], values["cpt_code"], values["allowed_cents"],
                        values["effective_date"], values["termination_date"])


def _check_fee_periods(session: Session, recs: list[Rec], errors: Errors) -> dict[tuple, tuple]:
    """No two periods of one payer and code may overlap, among the imported rows and the stored
    ones they do not replace: a service date must find one contracted amount, not two.
    Returns the stored rows of the imported codes by key, for writing."""
    old: dict[tuple, tuple] = {}
    for pk, code, start, payer, allowed, end in _fetch(
        session, (FeeScheduleRate.id, FeeScheduleRate.cpt_code, FeeScheduleRate.effective_date,
                  *_cols(FeeScheduleRate, _FEE_FIELDS)),
        FeeScheduleRate.cpt_code, [r.values["cpt_code"] for r in recs],
    ):
        old[fee_key({"payer": payer, "cpt_code": code, "effective_date": start})] = (
            pk, payer, allowed, end)
    # Every rate in force after the import, with the row bringing it (None: a stored one kept).
    after: dict[tuple, tuple[ContractRate, Rec | None]] = {
        key: (ContractRate(payer, key[1], allowed, key[2], end), None)
        for key, (_, payer, allowed, end) in old.items()
    }
    for r in recs:
        after[fee_key(r.values)] = (_rate(r.values), r)
    source = dict(after.values())
    reported: set[int] = set()
    for earlier, later in overlapping(source):
        first, second = source[earlier], source[later]
        if first is None and second is None:
            continue
        # Reported once per imported row (the later line when both are), naming the other.
        if second is None or (first is not None and first.line > second.line):
            bad, other, other_rec = first, later, second
        else:
            bad, other, other_rec = second, earlier, first
        if id(bad) in reported:
            continue
        reported.add(id(bad))
        where = (f"{other_rec.file}:{other_rec.line}" if other_rec is not None
                 else f"the stored rate from {other.effective_date.isoformat()}")
        errors.add(bad.file, bad.line,
                   f"{bad.values['payer']} {bad.values['cpt_code']}: the period overlaps {where}")
    return old


def _write_price_lists(session, recs: dict[str, list[Rec]], old_fees: dict, report) -> None:
    """Upsert the clinic's chargemaster by CPT code and its fee schedule by
    (payer, code, effective date); rows missing from a later export stay, like every kind."""
    old_prices = {
        row[1]: (row[0], *row[2:])
        for row in _fetch(
            session, (ChargemasterItem.id, ChargemasterItem.cpt_code,
                      *_cols(ChargemasterItem, _CHARGEMASTER_FIELDS)),
            ChargemasterItem.cpt_code, [r.values["cpt_code"] for r in recs["chargemaster"]],
        )
    }
    new = _upsert(session, ChargemasterItem, _CHARGEMASTER_FIELDS, recs["chargemaster"],
                  old_prices, report.counts["chargemaster"], lambda r: r.values["cpt_code"])
    if new:
        session.execute(ChargemasterItem.__table__.insert(), new)
    new = _upsert(session, FeeScheduleRate, _FEE_FIELDS, recs["fee_schedules"], old_fees,
                  report.counts["fee_schedules"], lambda r: fee_key(r.values))
    if new:
        session.execute(FeeScheduleRate.__table__.insert(), new)
