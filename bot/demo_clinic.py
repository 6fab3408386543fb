"""A generated, realistic demo clinic, reproducible from a seed, loaded through the CSV importer.

generate() is pure: from (seed, patient count, today, price list) it builds the rows of the
four import files in memory, plus the payment plans and SMS opt-outs the export cannot carry.
load() imports those rows with billing.importer (so the demo passes the same validation as a
practice's export), then records the plans and opt-outs. Five hand-built accounts, A1000 to
A1004, are the same for every seed so the README and tests can name them.
"""
from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit
from billing.core.chargemaster import PriceEntry
from billing.core.insurance import patient_responsibility
from billing.core.ledger import CoverageTerms
from billing.core.money import Cents, percent_of
from billing.core.plans import schedule
from billing.db.models import Patient
from billing.import_rows import OPTIONAL_COLUMNS
from billing.importer import COLUMNS, ImportReport, import_sources, source_from_text
from billing.payment_plans.models import PaymentPlan
from billing.payment_plans.service import PlanExists, create_plan

# Deliberate billing errors, one role per kind, and how many accounts get each.
ERROR_ROLES = {
    "duplicate_charge": 3,
    "billed_while_pending": 3,
    "share_above_terms": 2,
    "credit_not_refunded": 3,
}
REFUND_ROLES = ("requested", "approved", "issued", "rejected")  # credits with a refund at each status
PLAN_ACCOUNTS = 3


@dataclass(frozen=True)
class DemoAccount:
    account_number: str
    first_name: str
    date_of_birth: date
    phone: str  # E.164
    story: str


DEMO_ACCOUNTS = (
    DemoAccount("A1000", "Maria", date(1984, 3, 14), "+16025550140",
                "a simple balance due: one office visit after insurance"),
    DemoAccount("A1001", "James", date(1969, 11, 2), "+13125550177",
                "a past-due visit, and an MRI billed twice on a claim still pending"),
    DemoAccount("A1002", "Aiko", date(1992, 6, 25), "+18085550123",
                "a credit (copay paid twice) with a refund approved and on its way"),
    DemoAccount("A1003", "Robert", date(1978, 1, 9), "+12065550188",
                "family phone shared with A1004; a partly paid visit"),
    DemoAccount("A1004", "Emily", date(2012, 8, 17), "+12065550188",
                "family phone shared with A1003; a child's visit with a strep test"),
)

ZONES = (  # (IANA zone, area codes, weight)
    ("America/New_York", ("212", "718", "917", "617", "404", "305"), 30),
    ("America/Chicago", ("312", "773", "214", "512"), 22),
    ("America/Denver", ("303", "720", "801"), 8),
    ("America/Phoenix", ("602", "480", "520"), 8),
    ("America/Los_Angeles", ("213", "415", "206", "503"), 20),
    ("America/Detroit", ("313",), 4),
    ("America/Indiana/Indianapolis", ("317",), 3),
    ("America/Anchorage", ("907",), 2),
    ("Pacific/Honolulu", ("808",), 3),
)
FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Ana", "Wei", "Mei", "Ahmed", "Fatima", "Kenji", "Yuki", "Olga", "Ivan",
    "Priya", "Arjun", "Lucia", "Mateo", "Grace", "Samuel", "Leila", "Omar", "Hannah", "Noah",
    "Chloe", "Diego"
)
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Nguyen", "Chen", "Patel", "Kim", "Okafor", "Novak"
)
PROVIDERS = ("Dr. Amelia Kim", "Dr. Raj Patel", "Dr. Sofia Alvarez", "Dr. Marcus Lee",
             "Jo Brennan, NP")
PRIMARY = ("99213", "99213", "99214", "99212", "99203", "99396", "99395", "99051")
ADD_ONS = ("36415", "85025", "80053", "80061", "83036", "81001", "87880", "71046", "93000",
           "90686", "73610")
BIG = ("70450", "74177", "73721", "72148", "76700", "45378")
PLANS = (  # kind, payer, plan name, weight
    ("ppo", "Acme Health", "Acme PPO Gold", 30),
    ("hmo", "Northstar Health", "Northstar HMO Select", 15),
    ("hdhp", "BlueRiver Insurance", "BlueRiver HDHP Saver", 15),
    ("medicare", "Medicare", "Medicare Advantage Plus", 15),
    ("medicaid", "State Medicaid", "Medicaid Managed Care", 10),
    ("self", "", "", 15),
)
ALLOWED_PERCENT = {"ppo": 78, "hmo": 72, "hdhp": 80, "medicare": 55, "medicaid": 45}
# Mailing addresses: a city of each zone (made-up streets; ZIPs of the city's range).
CITIES = {
    "America/New_York": (("New York", "NY", "100"), ("Boston", "MA", "021"),
                         ("Atlanta", "GA", "303"), ("Miami", "FL", "331")),
    "America/Chicago": (("Chicago", "IL", "606"), ("Dallas", "TX", "752"),
                        ("Austin", "TX", "787")),
    "America/Denver": (("Denver", "CO", "802"), ("Salt Lake City", "UT", "841")),
    "America/Phoenix": (("Phoenix", "AZ", "850"), ("Tucson", "AZ", "857")),
    "America/Los_Angeles": (("Los Angeles", "CA", "900"), ("San Francisco", "CA", "941"),
                            ("Seattle", "WA", "981"), ("Portland", "OR", "972")),
    "America/Detroit": (("Detroit", "MI", "482"),),
    "America/Indiana/Indianapolis": (("Indianapolis", "IN", "462"),),
    "America/Anchorage": (("Anchorage", "AK", "995"),),
    "Pacific/Honolulu": (("Honolulu", "HI", "968"),),
}
STREETS = ("Oak St", "Maple Ave", "Cedar Ln", "Pine St", "Elm St", "Lakeview Dr", "Hillcrest Rd",
           "Park Ave", "Washington St", "Sunset Blvd", "River Rd", "Meadow Way")


@dataclass
class PlanSpec:
    account_number: str
    total: Cents
    months: int
    start_date: date
    installments: tuple  # billing.core.plans.Installment
    paid: int  # installments already paid


@dataclass
class DemoClinic:
    seed: int
    today: date
    rows: dict[str, list[dict]]
    plans: list[PlanSpec]
    opted_out: list[str]
    errors: dict[str, list[str]]  # finding kind -> accounts given that error on purpose
    refunds_by_status: dict[str, list[str]]

    def csv_text(self, kind: str) -> str:
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=_columns(kind), lineterminator="\n")
        w.writeheader()
        w.writerows(self.rows[kind])
        return out.getvalue()


def _columns(kind: str) -> tuple[str, ...]:
    return COLUMNS[kind] + OPTIONAL_COLUMNS.get(kind, ())


def _money(cents: Cents) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class _Cov:
    kind: str
    terms: CoverageTerms | None


@dataclass
class _Visit:
    claim_id: str
    day: date
    status: str
    share: Cents = 0
    paid: Cents = 0
    due: date | None = None
    adjudicated_on: date | None = None
    charge_rows: list[dict] = field(default_factory=list)


class _Builder:
    """Accumulates one clinic's rows; every amount comes from the price list and the terms."""

    def __init__(self, rnd: random.Random, today: date, prices: dict[str, PriceEntry]):
        self.rnd, self.today, self.prices = rnd, today, prices
        # Addresses from a stream of their own, so the rest of the clinic is as before.
        self.addresses = random.Random("billbot demo addresses")
        self.rows: dict[str, list[dict]] = {k: [] for k in COLUMNS}
        self.covs: dict[str, _Cov] = {}
        self.visits: dict[str, list[_Visit]] = {}
        self.used_days: dict[str, set[date]] = {}

    def row(self, kind: str, **values) -> dict:
        r = {c: _cell(values.get(c)) for c in _columns(kind)}
        self.rows[kind].append(r)
        return r

    def patient(self, acct, first, last, dob, phone, tz, *, email=None, chat=None,
                channel="sms", consent=True) -> None:
        self.row("patients", account_number=acct, first_name=first, last_name=last,
                 date_of_birth=dob, phone=phone, email=email, telegram_chat_id=chat,
                 timezone=tz, preferred_channel=channel, sms_consent="yes" if consent else "no",
                 **self.address(tz))
        self.visits[acct] = []
        self.used_days[acct] = set()

    def address(self, tz: str) -> dict[str, str]:
        """A made-up street address in a city of the patient's zone."""
        r = self.addresses
        city, state, prefix = r.choice(CITIES[tz])
        line2 = f"Apt {r.randint(1, 40)}" if r.random() < 0.25 else ""
        return {"address_line1": f"{r.randint(10, 9899)} {r.choice(STREETS)}",
                "address_line2": line2, "city": city, "state": state,
                "zip": f"{prefix}{r.randint(1, 99):02d}"}

    def coverage(self, acct: str, kind: str, member_no: int) -> None:
        rnd = self.rnd
        effective = self.today - timedelta(days=364)
        if kind == "self":
            self.covs[acct] = _Cov(kind, None)
            return
        payer, plan = next((p, n) for k, p, n, _ in PLANS if k == kind)
        ded, coins, copay, oop = {
            "ppo": (rnd.choice((1000, 1500, 2000)) * 100, 20, 0, rnd.choice((4000, 6000)) * 100),
            "hmo": (0, 0, rnd.choice((25, 30, 40)) * 100, rnd.choice((3000, 4500)) * 100),
            "hdhp": (rnd.choice((3200, 4000, 6000)) * 100, 20, 0, 7500 * 100),
            "medicare": (25700, 20, 0, 885000),
            "medicaid": (0, 0, rnd.choice((0, 200, 400)), 10000),
        }[kind]
        terms = CoverageTerms(payer, f"{payer[:2].upper()}{member_no:07d}", plan, ded, 0,
                              Decimal(coins), copay, oop, 0, effective)
        self.covs[acct] = _Cov(kind, terms)

    def coverage_rows(self) -> None:
        for acct, cov in self.covs.items():
            t = cov.terms
            if t is None:
                continue
            self.row("coverages", account_number=acct, payer=t.payer, member_id=t.member_id,
                     plan_name=t.plan_name, deductible=_money(t.deductible),
                     deductible_met=_money(t.deductible_met),
                     coinsurance_percent=t.coinsurance_percent, copay=_money(t.copay),
                     out_of_pocket_max=_money(t.out_of_pocket_max),
                     out_of_pocket_met=_money(t.out_of_pocket_met),
                     effective_date=t.effective_date, termination_date=None)

    def free_day(self, acct: str, lo: int, hi: int) -> date:
        for _ in range(200):
            day = self.today - timedelta(days=self.rnd.randint(lo, hi))
            if day not in self.used_days[acct]:
                self.used_days[acct].add(day)
                return day
        raise RuntimeError("no free visit day")  # pragma: no cover - 200 tries over a wide range

    def visit(self, acct: str, day: date, codes: list[str], *, status: str | None = None,
              provider: str | None = None, underpay: Cents = 0) -> _Visit:
        """Charge a visit and, when insured and adjudicated, post the insurer's lines."""
        v = self.visits[acct]
        claim = f"CL{acct[1:]}{len(v) + 1:02d}"
        provider = provider or self.rnd.choice(PROVIDERS)
        cov = self.covs[acct]
        insured = cov.terms is not None
        adjudicated_on = day + timedelta(days=self.rnd.randint(14, 35))
        if status is None:
            if not insured:
                status = "self_pay"
            elif adjudicated_on > self.today:
                status = "pending"
            else:
                status = "denied" if self.rnd.random() < 0.06 else "adjudicated"
        visit = _Visit(claim, day, status)
        charge = 0
        for n, code in enumerate(codes, 1):
            price = self.prices[code]
            charge += price.price
            visit.charge_rows.append(self.row(
                "ledger", account_number=acct, entry_id=f"{claim}-{n}", posted_date=day,
                service_date=day, type="charge", amount=_money(price.price), cpt_code=code,
                description=price.description, provider=provider, claim_id=claim,
                claim_status=status))
        if status == "adjudicated":
            allowed = percent_of(charge, Decimal(ALLOWED_PERCENT[cov.kind]))
            resp = patient_responsibility(allowed, cov.terms, day)
            t = cov.terms
            cov.terms = replace(
                t, deductible_met=t.deductible_met + resp.deductible_part,
                out_of_pocket_met=t.out_of_pocket_met + resp.patient_total)
            paid_by_insurer = resp.insurance_total - underpay
            for suffix, kind, amount in (("IP", "insurance_payment", paid_by_insurer),
                                         ("IA", "insurance_adjustment", charge - allowed)):
                if amount > 0:
                    self.row("ledger", account_number=acct, entry_id=f"{claim}-{suffix}",
                             posted_date=adjudicated_on, type=kind, amount=_money(amount),
                             claim_id=claim, method="eft" if kind == "insurance_payment" else None)
            visit.share = resp.patient_total + underpay
            visit.adjudicated_on = adjudicated_on
        elif status in ("denied", "self_pay"):
            visit.share = charge
            visit.adjudicated_on = adjudicated_on if status == "denied" else day
            if status == "self_pay" and self.rnd.random() < 0.5:
                discount = percent_of(charge, Decimal(20))
                self.row("ledger", account_number=acct, entry_id=f"{claim}-SD", posted_date=day,
                         type="patient_adjustment", amount=_money(discount),
                         description="Self-pay discount", claim_id=claim)
                visit.share -= discount
        if status != "pending":
            visit.due = visit.adjudicated_on + timedelta(days=30)
            for r in visit.charge_rows:
                r["due_date"] = _cell(visit.due)
        v.append(visit)
        return visit

    def pay(self, acct: str, visit: _Visit, amount: Cents, on: date, *, method: str = "card",
            applied: bool = True, suffix: str | None = None) -> None:
        n = sum(1 for r in self.rows["ledger"] if r["entry_id"].startswith(f"{visit.claim_id}-P"))
        self.row("ledger", account_number=acct,
                 entry_id=f"{visit.claim_id}-{suffix or f'P{n + 1}'}", posted_date=on,
                 type="patient_payment", amount=_money(amount),
                 claim_id=visit.claim_id if applied else None, method=method)
        visit.paid += amount

    def random_payments(self, acct: str, visit: _Visit) -> None:
        owed = visit.share - visit.paid
        if owed <= 0 or visit.adjudicated_on is None:
            return
        r = self.rnd.random()
        if r < 0.5:
            amount = owed
        elif r < 0.7:
            amount = owed // 2
        else:
            return
        window = (self.today - visit.adjudicated_on).days
        if amount <= 0 or window < 1:
            return
        on = visit.adjudicated_on + timedelta(days=self.rnd.randint(1, min(window, 45)))
        self.pay(acct, visit, amount, on, method=self.rnd.choice(("card", "card", "ach", "check")))


def _pick(rnd: random.Random, choices):
    return rnd.choices([c[0] for c in choices], weights=[c[-1] for c in choices])[0]


def generate(
    seed: int, patients: int, today: date, prices: dict[str, PriceEntry]
) -> DemoClinic:
    """The whole clinic as import rows; the same arguments always give the same rows."""
    if patients < len(DEMO_ACCOUNTS) + 20:
        raise ValueError(f"the demo needs at least {len(DEMO_ACCOUNTS) + 20} patients")
    missing = [c for c in {*PRIMARY, *ADD_ONS, *BIG, "99214", "73721", "87880"} if c not in prices]
    if missing:
        raise ValueError(f"the price list lacks CPT codes the demo uses: {sorted(missing)}")
    b = _Builder(random.Random("billbot demo accounts"), today, prices)
    _hand_built(b)  # from a fixed generator, so A1000-A1004 are the same for every seed
    rnd = b.rnd = random.Random(seed)

    reserved = {a.phone for a in DEMO_ACCOUNTS}
    pool = [f"+1{ac}555{n:04d}" for _, codes, _ in ZONES for ac in codes for n in range(100, 200)]
    pool = [p for p in pool if p not in reserved]
    rnd.shuffle(pool)
    zone_of = {f"+1{ac}": tz for tz, codes, _ in ZONES for ac in codes}
    accounts = [f"A{2000 + i}" for i in range(patients - len(DEMO_ACCOUNTS))]
    family_head: dict[str, tuple[str, str]] = {}  # phone -> (last name, zone)
    opted_out, chats = [], 700000000
    for i, acct in enumerate(accounts):
        if i > 0 and rnd.random() < 0.08:  # joins an earlier patient's family phone
            phone = rnd.choice(sorted(family_head))
            last, tz = family_head[phone]
            dob = date(rnd.randint(2008, 2022), rnd.randint(1, 12), rnd.randint(1, 28))
        else:
            phone = pool.pop()
            tz = zone_of[phone[:5]]
            last = rnd.choice(LAST)
            family_head[phone] = (last, tz)
            dob = date(rnd.randint(1940, 2004), rnd.randint(1, 12), rnd.randint(1, 28))
        first = rnd.choice(FIRST)
        email = f"{first.lower()}.{last.lower()}{i}@example.org" if rnd.random() < 0.6 else None
        chat = None
        if rnd.random() < 0.2:
            chats += rnd.randint(1, 999)
            chat = chats
        r = rnd.random()
        channel = "telegram" if chat else ("email" if email and r < 0.2 else "sms")
        consent = channel == "sms" or rnd.random() < 0.5
        if channel == "sms" and rnd.random() < 0.04:  # replied STOP: no consent, email instead
            opted_out.append(acct)
            consent, channel = False, "email" if email else "none"
        b.patient(acct, first, last, dob, phone, tz, email=email, chat=chat, channel=channel,
                  consent=consent)
        b.coverage(acct, _pick(rnd, PLANS), 1000 + i)

    roles = _assign_roles(rnd, b, accounts)
    for acct in accounts:
        role = roles.get(acct)
        visits = rnd.choice((0, 1, 1, 2, 2, 3, 4))
        if role == "credit_not_refunded" or (role or "").startswith("refund_"):
            visits = 0  # other visits' open amounts would hide the account's credit
        for _ in range(visits):
            codes = [rnd.choice(PRIMARY)]
            codes += rnd.sample(ADD_ONS, rnd.choice((0, 0, 1, 2)))
            visit = b.visit(acct, b.free_day(acct, 1, 330), codes)
            b.random_payments(acct, visit)
        if role:
            _apply_role(b, acct, role)
    b.coverage_rows()

    errors: dict[str, list[str]] = {k: [] for k in ERROR_ROLES}
    refunds: dict[str, list[str]] = {s: [] for s in REFUND_ROLES}
    plans = []
    for acct, role in sorted(roles.items()):
        if role in errors:
            errors[role].append(acct)
        elif role.startswith("refund_"):
            refunds[role[len("refund_"):]].append(acct)
    errors["duplicate_charge"].insert(0, "A1001")
    refunds["approved"].insert(0, "A1002")
    for acct, role in sorted(roles.items()):
        if role == "plan":
            plans.append(_plan(b, acct))
    return DemoClinic(seed, today, b.rows, plans, opted_out, errors, refunds)


def _assign_roles(rnd: random.Random, b: _Builder, accounts: list[str]) -> dict[str, str]:
    wanted = [*(k for k, n in ERROR_ROLES.items() for _ in range(n)),
              *(f"refund_{s}" for s in REFUND_ROLES), *(["plan"] * PLAN_ACCOUNTS)]
    candidates = accounts[:]
    rnd.shuffle(candidates)
    roles: dict[str, str] = {}
    for role in wanted:
        for acct in candidates:
            kind = b.covs[acct].kind
            if acct in roles:
                continue
            if role == "billed_while_pending" and kind == "self":
                continue
            if role == "share_above_terms" and kind != "hmo":
                continue  # copay terms: the excess does not depend on the deductible
            if role == "plan" and kind not in ("hdhp", "self"):
                continue
            roles[acct] = role
            break
    return roles


def _apply_role(b: _Builder, acct: str, role: str) -> None:
    rnd, today = b.rnd, b.today
    if role == "duplicate_charge":
        v = b.visit(acct, b.free_day(acct, 40, 200), [rnd.choice(PRIMARY), rnd.choice(ADD_ONS)])
        first = v.charge_rows[0]
        b.rows["ledger"].append({**first, "entry_id": first["entry_id"] + "D"})
    elif role == "billed_while_pending":
        v = b.visit(acct, b.free_day(acct, 3, 12), ["99213", "85025"], status="pending")
        for r in v.charge_rows:
            r["due_date"] = _cell(v.day + timedelta(days=30))
    elif role == "share_above_terms":
        b.visit(acct, b.free_day(acct, 60, 200), ["99214"], status="adjudicated",
                underpay=4000)
    elif role == "credit_not_refunded":
        v = b.visit(acct, b.free_day(acct, 60, 250), ["99213"],
                    status="adjudicated" if b.covs[acct].terms else "self_pay")
        amount = v.share or 2500
        b.pay(acct, v, amount, v.adjudicated_on + timedelta(days=3))
        b.pay(acct, v, amount, v.adjudicated_on + timedelta(days=9), method="check")
    elif role.startswith("refund_"):
        status = role[len("refund_"):]
        v = b.visit(acct, b.free_day(acct, 90, 250), ["99212"],
                    status="adjudicated" if b.covs[acct].terms else "self_pay")
        extra = 2000 + rnd.randint(0, 40) * 100
        if v.share:
            b.pay(acct, v, v.share, v.adjudicated_on + timedelta(days=2))
        b.pay(acct, v, extra, v.adjudicated_on + timedelta(days=6), method="check")
        requested = v.adjudicated_on + timedelta(days=20)
        issued = requested + timedelta(days=10) if status in ("issued", "rejected") else None
        rid = f"RF{acct[1:]}"
        if status == "rejected":  # rejected (sent to a closed card), then asked again
            b.row("refunds", account_number=acct, refund_id=rid + "-1", amount=_money(extra),
                  requested_date=requested, status="rejected", issued_date=issued, method="card")
            b.row("refunds", account_number=acct, refund_id=rid + "-2", amount=_money(extra),
                  requested_date=min(today, issued + timedelta(days=2)), status="requested",
                  method="check")
            return
        b.row("refunds", account_number=acct, refund_id=rid, amount=_money(extra),
              requested_date=requested, status=status, issued_date=issued, method="check")
        if status == "issued":
            b.row("ledger", account_number=acct, entry_id=f"{v.claim_id}-RF", posted_date=issued,
                  type="refund", amount=_money(extra), description="Refund of overpayment",
                  method="check")
    elif role == "plan":
        v = b.visit(acct, b.free_day(acct, 150, 200), [rnd.choice(BIG)], status=(
            "self_pay" if b.covs[acct].terms is None else "adjudicated"))


def _plan(b: _Builder, acct: str) -> PlanSpec:
    """A payment plan on the account's large visit; installments due so far are paid."""
    visit = max(b.visits[acct], key=lambda v: v.share - v.paid)
    owed = visit.share - visit.paid
    months = 12 if owed > 60000 else 6
    start = visit.due or b.today
    installments = schedule(owed, months, start)
    paid = 0
    for inst in installments:
        if inst.due_date <= b.today:
            b.pay(acct, visit, inst.amount, inst.due_date, method="ach",
                  suffix=f"PLAN{inst.seq:02d}")
            paid += 1
    return PlanSpec(acct, owed, months, start, installments, paid)


def _hand_built(b: _Builder) -> None:
    """A1000-A1004: the same stories for every seed (see DEMO_ACCOUNTS)."""
    t = b.today
    a = {d.account_number: d for d in DEMO_ACCOUNTS}
    b.patient("A1000", "Maria", "Garcia", a["A1000"].date_of_birth, a["A1000"].phone,
              "America/Phoenix", email="maria.garcia@example.org")
    b.coverage("A1000", "ppo", 1)
    b.covs["A1000"].terms = replace(b.covs["A1000"].terms, deductible=150000, copay=0,
                                    deductible_met=150000, out_of_pocket_met=180000,
                                    out_of_pocket_max=500000)
    old = b.visit("A1000", t - timedelta(days=200), ["99396", "36415", "80061"],
                  status="adjudicated", provider="Dr. Amelia Kim")
    b.pay("A1000", old, old.share, old.adjudicated_on + timedelta(days=10))
    b.visit("A1000", t - timedelta(days=45), ["99213"], status="adjudicated",
            provider="Dr. Amelia Kim")
    b.used_days["A1000"] |= {t - timedelta(days=200), t - timedelta(days=45)}

    b.patient("A1001", "James", "Wilson", a["A1001"].date_of_birth, a["A1001"].phone,
              "America/Chicago")
    b.coverage("A1001", "hdhp", 2)
    b.visit("A1001", t - timedelta(days=80), ["99214"], status="adjudicated",
            provider="Dr. Raj Patel")
    mri = b.visit("A1001", t - timedelta(days=12), ["73721"], status="pending",
                  provider="Dr. Raj Patel")
    b.rows["ledger"].append({**mri.charge_rows[0], "entry_id": mri.charge_rows[0]["entry_id"] + "D"})

    b.patient("A1002", "Aiko", "Tanaka", a["A1002"].date_of_birth, a["A1002"].phone,
              "Pacific/Honolulu", chat=5550001002, channel="telegram", consent=False)
    b.coverage("A1002", "hmo", 3)
    b.covs["A1002"].terms = replace(b.covs["A1002"].terms, copay=3500)
    v = b.visit("A1002", t - timedelta(days=60), ["99213"], status="adjudicated",
                provider="Dr. Sofia Alvarez")
    b.pay("A1002", v, v.share, v.day, suffix="P1")  # copay at the front desk
    b.pay("A1002", v, v.share, v.adjudicated_on + timedelta(days=4), method="ach")  # and online
    b.row("refunds", account_number="A1002", refund_id="RF1002", amount=_money(v.share),
          requested_date=t - timedelta(days=5), status="approved", method="ach")

    for acct, first in (("A1003", "Robert"), ("A1004", "Emily")):
        b.patient(acct, first, "Johnson", a[acct].date_of_birth, a[acct].phone,
                  "America/Los_Angeles", email="johnson.family@example.org")
        b.coverage(acct, "ppo", 4 if acct == "A1003" else 5)
    v = b.visit("A1003", t - timedelta(days=70), ["99214", "93000"], status="adjudicated",
                provider="Dr. Marcus Lee")
    b.pay("A1003", v, v.share // 2, v.adjudicated_on + timedelta(days=7))
    b.visit("A1004", t - timedelta(days=25), ["99213", "87880"], status="adjudicated",
            provider="Dr. Marcus Lee")


@dataclass
class DemoLoad:
    report: ImportReport
    plans_created: int
    opted_out: int


def load(session: Session, clinic: DemoClinic, now: datetime) -> DemoLoad:
    """Import the clinic's rows and record its plans and opt-outs (the caller commits)."""
    sources = [source_from_text(f"{kind}.csv", clinic.csv_text(kind)) for kind in COLUMNS]
    report = import_sources(session, sources, now=now, actor="demo")
    ids = dict(session.execute(select(Patient.account_number, Patient.id)).all())
    opted = 0
    for acct in clinic.opted_out:
        p = session.get(Patient, ids[acct])
        if p.sms_opted_out_at is None:
            p.sms_opted_out_at = now
            opted += 1
            audit.record(session, "demo", "sms_opt_out", p.id, at=now)
    created = 0
    for spec in clinic.plans:
        pid = ids[spec.account_number]
        exists = session.scalars(select(PaymentPlan.id).where(
            PaymentPlan.patient_id == pid, PaymentPlan.created_by == "demo",
            PaymentPlan.start_date == spec.start_date)).first()
        if exists:
            continue
        try:
            plan = create_plan(
                session=session, patient_id=pid, total=spec.total,
                installments=[(i.seq, i.due_date, i.amount) for i in spec.installments],
                created_by="demo", paid=spec.paid, created_at=now,
            )
        except PlanExists:
            continue  # a plan made since the last load (by the patient or a representative)
        audit.record(session, "demo", "create_plan", pid, at=now, plan_id=plan.id)
        created += 1
    session.flush()
    return DemoLoad(report, created, opted)


def summary(clinic: DemoClinic, loaded: DemoLoad) -> list[str]:
    """Lines describing a loaded demo clinic: counts, plans,
    opt-outs, refunds and the billing errors to try."""
    n = len(clinic.rows["patients"])
    out = [f"Demo clinic: {n} patients, seed {clinic.seed}, as of {clinic.today.isoformat()}"]
    out += [f"  {line}" for line in loaded.report.lines()]
    out.append(f"  payment plans created: {loaded.plans_created} "
               f"({', '.join(p.account_number for p in clinic.plans)})")
    out.append(f"  SMS opt-outs recorded: {loaded.opted_out} of {len(clinic.opted_out)}")
    out.append("Refunds by status (credit accounts): " + "; ".join(
        f"{s}: {', '.join(a)}" for s, a in clinic.refunds_by_status.items()))
    out.append("Deliberate billing errors (try `billbot discrepancies ACCOUNT`):")
    out += [f"  {kind}: {', '.join(accts)}" for kind, accts in clinic.errors.items()]
    out.append("Demo accounts (verify with account number and date of birth):")
    out += [f"  {d.account_number}  {d.first_name:<7} born {d.date_of_birth.isoformat()}  "
            f"{d.phone}  {d.story}" for d in DEMO_ACCOUNTS]
    return out
