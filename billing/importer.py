"""Import a practice-management export: patients.csv, coverages.csv, ledger.csv, refunds.csv.

All-or-nothing and idempotent: every row is validated (against the database and the rest of
the import) before anything is written; rows are keyed by their ids, so importing the same
files twice changes nothing and a changed row updates the stored one. The caller owns the
transaction: it commits after import_sources returns, and rolls back on any exception.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import available_timezones

import phonenumbers
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from billing import audit
from billing.clock import utcnow
from billing.db.models import Coverage, LedgerEntry, Patient, Refund, RefundEvent
from billing.ledger import ClaimStatus, EntryType, RefundStatus
from billing.money import MoneyError, parse_amount

KINDS = ("patients", "coverages", "ledger", "refunds")
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": (
        "account_number", "first_name", "last_name", "date_of_birth", "phone", "email",
        "telegram_chat_id", "timezone", "preferred_channel", "sms_consent",
    ),
    "coverages": (
        "account_number", "payer", "member_id", "plan_name", "deductible", "deductible_met",
        "coinsurance_percent", "copay", "out_of_pocket_max", "out_of_pocket_met",
        "effective_date", "termination_date",
    ),
    "ledger": (
        "account_number", "entry_id", "posted_date", "service_date", "type", "amount",
        "cpt_code", "description", "provider", "claim_id", "claim_status", "method", "due_date",
    ),
    "refunds": (
        "account_number", "refund_id", "amount", "requested_date", "status", "issued_date",
        "method",
    ),
}
CHANNELS = ("sms", "telegram", "email", "none")
ENTRY_TYPES = tuple(t.value for t in EntryType)
CLAIM_STATUSES = tuple(s.value for s in ClaimStatus)
REFUND_STATUSES = tuple(s.value for s in RefundStatus)
# The export has no approval date: an approval is dated at the request.
REFUND_PATHS = {
    "requested": ("requested",),
    "approved": ("requested", "approved"),
    "issued": ("requested", "approved", "issued"),
    "rejected": ("requested", "rejected"),
}
MAX_ERRORS = 20
CHUNK = 5000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CPT = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")


class ImportRowError(Exception):
    """One bad row (or file): where it is and why, as `file:line: reason`."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line, self.reason = file, line, reason


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
                errors.append(ImportRowError(str(p), 0, "no patients/coverages/ledger/refunds CSV files"))
            files.extend(found)
        elif not p.is_file():
            errors.append(ImportRowError(str(p), 0, "no such file"))
        elif kind_of(p.name) is None:
            errors.append(ImportRowError(
                str(p), 0, "file name must be patients.csv, coverages.csv, ledger.csv or refunds.csv"))
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
    kind = kind_of(name)
    if kind is None:
        raise ValueError(f"not an import file name: {name}")
    return Source(name, kind, io.StringIO(text, newline=""))


# ---------------------------------------------------------------- validation


class _Errors:
    def __init__(self) -> None:
        self.items: list[ImportRowError] = []
        self.total = 0

    def add(self, file: str, line: int, reason: str) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(ImportRowError(file, line, reason))


@dataclass
class _Rec:
    file: str
    line: int
    account: str
    values: dict


class _Row:
    """Reads typed values out of one CSV row, noting each problem once."""

    def __init__(self, file: str, line: int, raw: dict, errors: _Errors) -> None:
        self.file, self.line, self.raw, self.errors, self.ok = file, line, raw, errors, True

    def fail(self, reason: str) -> None:
        self.ok = False
        self.errors.add(self.file, self.line, reason)

    def text(self, col: str, *, required: bool = False, max_len: int = 200) -> str | None:
        value = (self.raw.get(col) or "").strip()
        if not value:
            if required:
                self.fail(f"{col} is required")
            return None
        if len(value) > max_len:
            self.fail(f"{col} is longer than {max_len} characters")
            return None
        return value

    def ident(self, col: str, *, required: bool = False, max_len: int = 64) -> str | None:
        value = self.text(col, required=required, max_len=max_len)
        if value is not None and not _ID.match(value):
            self.fail(f"{col} {value!r} may hold only letters, digits and . _ - /")
            return None
        return value

    def day(self, col: str, *, required: bool = False) -> date | None:
        value = self.text(col, required=required)
        if value is None:
            return None
        try:
            if not _DATE.match(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{col} {value!r} is not a date (YYYY-MM-DD)")
            return None

    def amount(self, col: str, *, required: bool = False, positive: bool = False) -> int | None:
        value = self.text(col, required=required)
        if value is None:
            return None
        try:
            cents = parse_amount(value)
        except MoneyError as exc:
            self.fail(f"{col}: {exc}")
            return None
        if positive and cents == 0:
            self.fail(f"{col} must be more than zero")
            return None
        return cents

    def choice(self, col: str, options: Sequence[str], *, required: bool = False) -> str | None:
        value = self.text(col, required=required)
        if value is None:
            return None
        value = value.lower()
        if value not in options:
            self.fail(f"{col} {value!r} is not one of {'|'.join(options)}")
            return None
        return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _phone(row: _Row) -> str | None:
    raw = row.text("phone", max_len=40)
    if raw is None:
        return None
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        row.fail(f"phone {raw!r} is not a valid phone number")
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _account(row: _Row) -> str | None:
    value = row.ident("account_number", required=True, max_len=32)
    return value.upper() if value else None


def _patient(row: _Row, today: date) -> _Rec | None:
    account = _account(row)
    v = {
        "first_name": row.text("first_name", required=True, max_len=80),
        "last_name": row.text("last_name", required=True, max_len=80),
        "date_of_birth": row.day("date_of_birth", required=True),
        "phone": _phone(row),
        "email": row.text("email", max_len=254),
        "telegram_chat_id": None,
        "timezone": row.text("timezone", required=True, max_len=64),
        "preferred_channel": row.choice("preferred_channel", CHANNELS, required=True),
        "sms_consent": row.choice("sms_consent", ("yes", "no"), required=True) == "yes",
    }
    if v["date_of_birth"] and v["date_of_birth"] > today:
        row.fail("date_of_birth is in the future")
    if v["email"] and not _EMAIL.match(v["email"]):
        row.fail(f"email {v['email']!r} is not an email address")
    chat = row.text("telegram_chat_id", max_len=20)
    if chat is not None:
        try:
            v["telegram_chat_id"] = int(chat)
            if abs(v["telegram_chat_id"]) >= 2**63:
                raise ValueError
        except ValueError:
            row.fail(f"telegram_chat_id {chat!r} is not a whole number")
    if v["timezone"] and v["timezone"] not in _zones():
        row.fail(f"timezone {v['timezone']!r} is not an IANA time zone")
    channel = v["preferred_channel"]
    needs = {"sms": "phone", "telegram": "telegram_chat_id", "email": "email"}.get(channel or "")
    if needs and row.ok and v[needs] is None:
        row.fail(f"preferred_channel {channel} needs a {needs}")
    return _Rec(row.file, row.line, account, v) if row.ok and account else None


def _percent(row: _Row, col: str) -> Decimal | None:
    value = row.text(col, required=True)
    if value is None:
        return None
    try:
        pct = Decimal(value.rstrip("%").strip())
        if not pct.is_finite() or pct.as_tuple().exponent < -2 or not 0 <= pct <= 100:
            raise InvalidOperation
        return pct
    except InvalidOperation:
        row.fail(f"{col} {value!r} is not a percentage from 0 to 100 (at most 2 decimals)")
        return None


def _coverage(row: _Row, today: date) -> _Rec | None:
    account = _account(row)
    v = {
        "payer": row.text("payer", required=True, max_len=120),
        "member_id": row.text("member_id", required=True, max_len=64),
        "plan_name": row.text("plan_name", required=True, max_len=120),
        "deductible_cents": row.amount("deductible", required=True),
        "deductible_met_cents": row.amount("deductible_met") or 0,
        "coinsurance_percent": _percent(row, "coinsurance_percent"),
        "copay_cents": row.amount("copay") or 0,
        "out_of_pocket_max_cents": row.amount("out_of_pocket_max", required=True),
        "out_of_pocket_met_cents": row.amount("out_of_pocket_met") or 0,
        "effective_date": row.day("effective_date", required=True),
        "termination_date": row.day("termination_date"),
    }
    if row.ok:
        if v["deductible_met_cents"] > v["deductible_cents"]:
            row.fail("deductible_met is more than the deductible")
        if v["out_of_pocket_met_cents"] > v["out_of_pocket_max_cents"]:
            row.fail("out_of_pocket_met is more than out_of_pocket_max")
        if v["termination_date"] and v["termination_date"] < v["effective_date"]:
            row.fail("termination_date is before effective_date")
    return _Rec(row.file, row.line, account, v) if row.ok and account else None


def _ledger(row: _Row, today: date) -> _Rec | None:
    account = _account(row)
    v = {
        "entry_id": row.ident("entry_id", required=True),
        "type": row.choice("type", ENTRY_TYPES, required=True),
        "amount_cents": row.amount("amount", required=True, positive=True),
        "posted_date": row.day("posted_date", required=True),
        "service_date": row.day("service_date"),
        "cpt_code": row.text("cpt_code", max_len=10),
        "description": row.text("description", max_len=200),
        "provider": row.text("provider", max_len=120),
        "claim_id": row.ident("claim_id"),
        "claim_status": row.choice("claim_status", CLAIM_STATUSES),
        "method": row.text("method", max_len=32),
        "due_date": row.day("due_date"),
    }
    if v["cpt_code"]:
        v["cpt_code"] = v["cpt_code"].upper()
        if not _CPT.match(v["cpt_code"]):
            row.fail(f"cpt_code {v['cpt_code']!r} is not a CPT/HCPCS code")
    if v["method"]:
        v["method"] = v["method"].lower()
    if v["type"] == EntryType.CHARGE:
        if v["service_date"] is None and row.raw.get("service_date", "").strip() == "":
            row.fail("a charge needs a service_date")
        if v["claim_status"] is None and row.raw.get("claim_status", "").strip() == "":
            row.fail("a charge needs a claim_status")
        elif v["claim_status"] not in (None, ClaimStatus.SELF_PAY) and not v["claim_id"]:
            row.fail(f"a charge with claim_status {v['claim_status']} needs a claim_id")
        if v["due_date"] and v["service_date"] and v["due_date"] < v["service_date"]:
            row.fail("due_date is before service_date")
    elif v["type"] is not None:
        for col in ("claim_status", "due_date"):
            if (row.raw.get(col) or "").strip():
                row.fail(f"{col} belongs on charges only, not on a {v['type']}")
    return _Rec(row.file, row.line, account, v) if row.ok and account else None


def _refund(row: _Row, today: date) -> _Rec | None:
    account = _account(row)
    v = {
        "refund_id": row.ident("refund_id", required=True),
        "amount_cents": row.amount("amount", required=True, positive=True),
        "requested_date": row.day("requested_date", required=True),
        "status": row.choice("status", REFUND_STATUSES, required=True),
        "issued_date": row.day("issued_date"),
        "method": row.text("method", max_len=32),
    }
    if v["method"]:
        v["method"] = v["method"].lower()
    if row.ok:
        if v["status"] == "issued" and v["issued_date"] is None:
            row.fail("an issued refund needs an issued_date")
        elif v["issued_date"] and v["status"] in ("requested", "approved"):
            row.fail(f"issued_date given on a refund that is only {v['status']}")
        elif v["issued_date"] and v["issued_date"] < v["requested_date"]:
            row.fail("issued_date is before requested_date")
    return _Rec(row.file, row.line, account, v) if row.ok and account else None


_PARSERS = {"patients": _patient, "coverages": _coverage, "ledger": _ledger, "refunds": _refund}
_KEYS = {
    "patients": lambda r: r.account,
    "coverages": lambda r: (r.account, r.values["payer"], r.values["member_id"]),
    "ledger": lambda r: r.values["entry_id"],
    "refunds": lambda r: r.values["refund_id"],
}


def _parse(
    sources: Sequence[Source], errors: _Errors, today: date
) -> tuple[dict[str, list[_Rec]], set[str]]:
    """Typed records per kind, and every account number patients files name (even on bad rows,
    so a bad patient row is reported once rather than again on each of its ledger lines)."""
    recs: dict[str, list[_Rec]] = {k: [] for k in KINDS}
    named: set[str] = set()
    seen: dict[str, dict] = {k: {} for k in KINDS}
    for src in sources:
        reader = csv.DictReader(src.lines)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if not header:
            errors.add(src.name, 1, "the file is empty (no header line)")
            continue
        missing = [c for c in COLUMNS[src.kind] if c not in header]
        if missing:
            errors.add(src.name, 1, f"missing column(s): {', '.join(missing)}")
            continue
        reader.fieldnames = header
        parse, key = _PARSERS[src.kind], _KEYS[src.kind]
        for raw in reader:
            row = _Row(src.name, reader.line_num, raw, errors)
            if None in raw:  # more cells than header columns
                row.fail("more cells than the header has columns")
                continue
            if src.kind == "patients":
                named.add((raw.get("account_number") or "").strip().upper())
            rec = parse(row, today)
            if rec is None:
                continue
            k = key(rec)
            if k in seen[src.kind]:
                first = seen[src.kind][k]
                errors.add(src.name, rec.line, f"same id as {first.file}:{first.line}")
                continue
            seen[src.kind][k] = rec
            recs[src.kind].append(rec)
    return recs, named


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
    "timezone", "preferred_channel", "sms_consent",
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


def _cols(model, names: Sequence[str]) -> list:
    return [getattr(model, n) for n in names]


def _check_references(
    session: Session, recs: dict[str, list[_Rec]], named: set[str], errors: _Errors
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
    errors = _Errors()
    recs, named = _parse(sources, errors, now.date())
    stored, old_entries = _check_references(session, recs, named, errors)
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
                      Patient.sms_consent_at),
            Patient.account_number, [r.account for r in recs["patients"]],
        )
    }
    for r in recs["patients"]:
        prev = old_patients.get(r.account)
        consent_at = prev[-1] if prev else None
        if r.values["sms_consent"]:
            r.values["sms_consent_at"] = consent_at if prev and prev[-2] else now
        else:
            r.values["sms_consent_at"] = None
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
    for chunk in _chunks(new):
        session.execute(LedgerEntry.__table__.insert(), list(chunk))

    _write_refunds(session, recs["refunds"], stored, report, actor)
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


def _write_refunds(session, recs: list[_Rec], stored: dict[str, int], report, actor) -> None:
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
