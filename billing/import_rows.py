"""Reading and checking the rows of an import file: one typed record per good row, and
`file:line: reason` for each bad one (no database access here; billing.importer does that).
"""
from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers

from billing.core.chargemaster import CPT_CODE
from billing.core.ledger import ClaimStatus, EntryType, RefundStatus
from billing.core.money import MoneyError, parse_amount
from billing.core.price_lists import payer_key

LANGUAGES = ("en", "es")  # the languages billbot writes (clinic/wording/locale)
ACCOUNT_KINDS = ("patients", "coverages", "ledger", "refunds")
PRICE_KINDS = ("chargemaster", "fee_schedules")  # the clinic's price list and payer contracts
KINDS = ACCOUNT_KINDS + PRICE_KINDS
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
    "chargemaster": ("cpt_code", "description", "price"),
    "fee_schedules": ("payer", "cpt_code", "allowed_amount", "effective_date", "termination_date"),
}
# Columns a file may leave out: a patient's mailing address (letters; the state also picks the
# stricter state quiet hours for reminders) and email consent. A column left out of the file
# keeps what is stored; present but empty, it clears it.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("address_line1", "address_line2", "city", "state", "zip", "email_consent"),
}
# USPS codes: the states, DC, the territories and the armed forces' (AA, AE, AP).
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP AA AE AP"
)
US_STATES = frozenset(_STATE_CODES.split(" "))
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
CHANNELS = ("sms", "telegram", "email", "none")
ENTRY_TYPES = tuple(t.value for t in EntryType)
CLAIM_STATUSES = tuple(s.value for s in ClaimStatus)
REFUND_STATUSES = tuple(s.value for s in RefundStatus)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CPT = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ERRORS = 20  # errors reported before the rest are only counted
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")


class ImportRowError(Exception):
    """One bad row (or file): where it is and why, as `file:line: reason`."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line, self.reason = file, line, reason


class Errors:
    def __init__(self) -> None:
        self.items: list[ImportRowError] = []
        self.total = 0

    def add(self, file: str, line: int, reason: str) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(ImportRowError(file, line, reason))


@dataclass
class Rec:
    file: str
    line: int
    account: str
    values: dict
    absent: tuple[str, ...] = ()  # optional columns the file leaves out: keep what is stored


class _Row:
    """Reads typed values out of one CSV row, noting each problem once."""

    def __init__(self, file: str, line: int, raw: dict, errors: Errors) -> None:
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


def _patient(row: _Row, today: date) -> Rec | None:
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
    # Optional column: the patient's language (en, es); absent or blank keeps what is stored.
    language = row.choice("language", LANGUAGES)
    if language is not None:
        v["language"] = language
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
    v.update(_address(row))
    consent = row.choice("email_consent", ("yes", "no"))
    # Choosing email as the preferred channel is consent to it, unless the file says no.
    v["email_consent"] = consent == "yes" if consent else channel == "email"
    absent = tuple(c for c in OPTIONAL_COLUMNS["patients"] if c not in row.raw)
    return Rec(row.file, row.line, account, v, absent) if row.ok and account else None


def _address(row: _Row) -> dict:
    """The mailing address: a US state code, a 5 or 9 digit ZIP; line 1, city, state and
    ZIP together or none of them (a state alone is kept for the quiet hours)."""
    v = {
        "address_line1": row.text("address_line1", max_len=120),
        "address_line2": row.text("address_line2", max_len=120),
        "city": row.text("city", max_len=80),
        "state": None,
        "zip": None,
    }
    state = row.text("state", max_len=20)
    if state is not None:
        if state.upper() in US_STATES:
            v["state"] = state.upper()
        else:
            row.fail(f"state {state!r} is not a US state code (two letters, e.g. OR)")
    code = row.text("zip", max_len=20)
    if code is not None:
        found = _ZIP.match(code)
        if found is None:
            row.fail(f"zip {code!r} is not a 5 or 9 digit ZIP code (97477 or 97477-1234)")
        else:
            v["zip"] = found[1] + (f"-{found[2]}" if found[2] else "")
    given = [c for c in ("address_line1", "address_line2", "city", "zip") if row.raw.get(c)
             and row.raw[c].strip()]
    if given and row.ok:
        lacking = [c for c in ("address_line1", "city", "state", "zip") if v[c] is None]
        if lacking:
            row.fail(f"an address needs {', '.join(lacking)} too")
    return v


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


def _coverage(row: _Row, today: date) -> Rec | None:
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
    return Rec(row.file, row.line, account, v) if row.ok and account else None


def _ledger(row: _Row, today: date) -> Rec | None:
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
    return Rec(row.file, row.line, account, v) if row.ok and account else None


def _refund(row: _Row, today: date) -> Rec | None:
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
    return Rec(row.file, row.line, account, v) if row.ok and account else None


def _price_code(row: _Row) -> str | None:
    """A chargemaster or fee schedule code: a bare CPT/HCPCS code (no modifier)."""
    code = row.text("cpt_code", required=True, max_len=10)
    if code is None:
        return None
    code = code.upper()
    if not CPT_CODE.match(code):
        row.fail(f"cpt_code {code!r} is not a CPT/HCPCS code (5 letters or digits)")
        return None
    return code


def _chargemaster(row: _Row, today: date) -> Rec | None:
    v = {
        "cpt_code": _price_code(row),
        "description": row.text("description", required=True, max_len=200),
        "price_cents": row.amount("price", required=True, positive=True),
    }
    return Rec(row.file, row.line, "", v) if row.ok else None


def _fee_schedule(row: _Row, today: date) -> Rec | None:
    v = {
        "payer": row.text("payer", required=True, max_len=120),
        "cpt_code": _price_code(row),
        "allowed_cents": row.amount("allowed_amount", required=True, positive=True),
        "effective_date": row.day("effective_date", required=True),
        "termination_date": row.day("termination_date"),
    }
    if row.ok and v["termination_date"] and v["termination_date"] < v["effective_date"]:
        row.fail("termination_date is before effective_date")
    return Rec(row.file, row.line, "", v) if row.ok else None


def fee_key(values: dict) -> tuple:
    """A fee schedule row's key: payer (any case or spacing), code and start of the period."""
    return (payer_key(values["payer"]), values["cpt_code"], values["effective_date"])


_PARSERS = {
    "patients": _patient, "coverages": _coverage, "ledger": _ledger, "refunds": _refund,
    "chargemaster": _chargemaster, "fee_schedules": _fee_schedule,
}
_KEYS = {
    "patients": lambda r: r.account,
    "coverages": lambda r: (r.account, r.values["payer"], r.values["member_id"]),
    "ledger": lambda r: r.values["entry_id"],
    "refunds": lambda r: r.values["refund_id"],
    "chargemaster": lambda r: r.values["cpt_code"],
    "fee_schedules": lambda r: fee_key(r.values),
}
_KEY_NAMES = {"chargemaster": "cpt_code", "fee_schedules": "payer, cpt_code and effective_date"}


def parse_sources(
    sources: Sequence, errors: Errors, today: date
) -> tuple[dict[str, list[Rec]], set[str]]:
    """Typed records per kind, and every account number patients files name (even on bad rows,
    so a bad patient row is reported once rather than again on each of its ledger lines)."""
    recs: dict[str, list[Rec]] = {k: [] for k in KINDS}
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
                what = _KEY_NAMES.get(src.kind, "id")
                errors.add(src.name, rec.line, f"same {what} as {first.file}:{first.line}")
                continue
            seen[src.kind][k] = rec
            recs[src.kind].append(rec)
    return recs, named
