"""billbot balance | aging | discrepancies: an account's numbers, for a billing representative."""
from __future__ import annotations

import sys
from datetime import date
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import audit
from billing.accounts import find_by_account_number as _find
from billing.accounts import line_item, load_snapshot
from billing.core.aging import BUCKETS, Aging, age_account, practice_aging
from billing.core.balances import Balance, compute_balance
from billing.core.clock import Clock
from billing.core.money import fmt
from billing.core.promises import PromisePolicy
from billing.db.engine import make_engine
from billing.db.models import LedgerEntry
from billing.findings import account_findings
from billing.price_list_store import load_clinic_prices
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `balance`, `aging` and `discrepancies` subcommands to the billbot CLI."""
    p = sub.add_parser("balance", help="itemised balance of one account")
    p.add_argument("account")
    p.set_defaults(func=_balance)
    p = sub.add_parser("aging", help="aging buckets of one account, or of the whole practice")
    p.add_argument("account", nargs="?")
    p.add_argument("--today", type=date.fromisoformat, help="age as of this date (YYYY-MM-DD)")
    p.set_defaults(func=_aging)
    p = sub.add_parser("discrepancies", help="likely billing errors and late promises on one "
                       "account")
    p.add_argument("account")
    p.add_argument("--today", type=date.fromisoformat, help="judge as of this date (YYYY-MM-DD)")
    p.set_defaults(func=_discrepancies)


def _day(d: date | None) -> str:
    return d.isoformat() if d else "-"


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_balance(account_number: str, b: Balance) -> list[str]:
    """Render an account's balance as printable lines:
    one aligned table row per visit, then totals."""
    head = ("Date", "Description", "Status", "Charge", "Ins paid", "Adjust", "Pt share",
            "Pt paid", "Remaining", "Pending")
    rows = [
        (_day(v.service_date), _short(v.description), v.claim_status or "-", fmt(v.charge),
         fmt(v.insurance_paid), fmt(v.adjustments), fmt(v.patient_share), fmt(v.patient_paid),
         fmt(v.remaining), fmt(v.pending_insurance))
        for v in b.visits
    ]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def line(cells) -> str:
        return "  ".join(
            str(c).ljust(w) if i < 3 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [f"Account {account_number}", line(head), line("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out += [
        "",
        f"Account total:       {fmt(b.total)}",
        f"Due now:             {fmt(b.due_now)}"
        + (f" (due {b.due_date.isoformat()})" if b.due_now and b.due_date else ""),
        f"Pending insurance:   {fmt(b.pending_insurance)}",
        f"Credit:              {fmt(b.credit)}",
    ]
    if b.refunded_beyond_credit:
        out.append(f"Refunded beyond credit (due now): {fmt(b.refunded_beyond_credit)}")
    return out


def format_aging(title: str, a: Aging) -> list[str]:
    """Render aging buckets as printable lines under title:
    amount per bucket, total, oldest days past due."""
    out = [title]
    out += [f"  {name:>8}: {fmt(a.buckets.get(name, 0)):>14}" for name in BUCKETS]
    out.append(f"  {'total':>8}: {fmt(a.total):>14}")
    out.append(f"  oldest: {a.oldest_days_past_due} days past due")
    return out


def _with_account(args, body) -> int:
    """Print body(snapshot, session) for the named account, audited."""
    engine = make_engine(load_settings().database_url)
    try:
        with Session(engine) as session, session.begin():
            patient = _find(session, args.account)
            if patient is None:
                print(f"no account {args.account!r}", file=sys.stderr)
                return 1
            snap = load_snapshot(session, patient.id)
            audit.record(session, "cli", f"view_{args.command}", patient.id)
            lines = body(snap, session)
            for text in lines:
                print(text)
            return 0
    finally:
        engine.dispose()


def _balance(args) -> int:
    return _with_account(args, lambda s, _: format_balance(s.account_number, compute_balance(s.items)))


def _today(args) -> date:
    return args.today or Clock().today(load_settings().clinic_timezone)


def _aging(args) -> int:
    today = _today(args)
    if args.account:
        return _with_account(args, lambda s, _: format_aging(
            f"Aging of account {s.account_number} as of {today.isoformat()}",
            age_account(s.items, today)))
    engine = make_engine(load_settings().database_url)
    try:
        with Session(engine) as session:
            entries = session.scalars(
                select(LedgerEntry).order_by(LedgerEntry.patient_id, LedgerEntry.posted_date,
                                             LedgerEntry.id)
            )
            agings = [
                age_account([line_item(e) for e in group], today)
                for _, group in groupby(entries, key=lambda e: e.patient_id)
            ]
        total = practice_aging(agings)
        for text in format_aging(
            f"Practice aging as of {today.isoformat()} ({len(agings)} accounts)", total
        ):
            print(text)
        return 0
    finally:
        engine.dispose()


def _discrepancies(args) -> int:
    """Every finding, the representative-only ones (the clinic's price list and contracts)
    marked as such: this command is for a billing representative."""
    def body(s, session):
        found = account_findings(s, load_clinic_prices(session),
                                 PromisePolicy.from_settings(load_settings()), _today(args))
        if not found:
            return [f"Account {s.account_number}: no discrepancies found"]
        out = [f"Account {s.account_number}: {len(found)} finding(s)"]
        for f in found:
            who = "" if f.for_patient else " (representative only)"
            out.append(f"- {f.kind}: {fmt(f.amount)} [{', '.join(f.entry_ids)}]{who}")
            out.append(f"  {f.summary}")
        return out

    return _with_account(args, body)
