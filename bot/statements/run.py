"""A statement run: every account with an amount due gets its statement PDF, dated the cycle
date; the patients whose preferred channel is email get a notice by email; those with no
digital channel (preferred channel none, or every channel opted out or failing) get a letter
in the cycle's print batch for the mail house (one PDF, a CSV manifest); accounts with
nothing due get nothing. Patients on SMS or Telegram hear of their balance from the reminders.

Each email or letter is a statement_notices row (account, cycle) written before it is sent
or printed, so running the same cycle again sends and prints nothing twice.
"""
from __future__ import annotations

import csv
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, case, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing import audit
from billing.core.balances import SIGN
from billing.db.models import LedgerEntry, Patient
from bot import email_consent
from bot.channels.email import EmailChannel, is_bounce
from bot.messaging_models import OUTBOUND, EmailOptOut, Message, SmsOptOut
from bot.reminders.policy import failure_outcome
from bot.statements.content import Clinic, StatementContent, statement_content
from bot.statements.notices import statement_notice
from bot.statements.pdf import render, statement_pdf
from bot.statements.statement_models import StatementNotice
from clinic.settings import Settings
from clinic.wording import text

log = logging.getLogger(__name__)
ACTOR = "statements"
EMAIL, LETTER, DIGITAL = "email", "letter", "digital"
DONE = ("sending", "sent", "failed", "unknown", "printed", "skipped")


@dataclass
class StatementRunReport:
    cycle: date
    statements: int = 0  # accounts with an amount due: a PDF each
    delivery: Counter = field(default_factory=Counter)  # email | letter | digital
    emailed: int = 0
    email_failed: int = 0
    email_waiting: int = 0  # no email channel configured, or a temporary failure: next run
    letters: int = 0
    letter_pages: int = 0
    no_address: list[str] = field(default_factory=list)  # letters that cannot be mailed
    already_done: int = 0  # sent or printed by an earlier run of this cycle
    batch: Path | None = None
    manifest: Path | None = None

    def lines(self) -> list[str]:
        """What the run did, for the operator (account numbers only, never names)."""
        out = [(f"Statement cycle {self.cycle.isoformat()}: {self.statements} statements "
               f"(accounts with an amount due)"),
               (f"  by email: {self.delivery[EMAIL]} ({self.emailed} sent, {self.email_failed} "
               f"failed, {self.email_waiting} waiting)"),
               f"  by letter: {self.letters} in the print batch ({self.letter_pages} pages)",
               f"  by SMS or Telegram reminders: {self.delivery[DIGITAL]}",
               f"  already sent or printed this cycle: {self.already_done}"]
        if self.no_address:
            out.append(f"  no mailing address, not mailed: {len(self.no_address)} "
                       f"({', '.join(self.no_address[:20])}{' ...' if len(self.no_address) > 20 else ''})")
        if self.batch is not None:
            out.append(f"  print batch: {self.batch}  manifest: {self.manifest}")
        return out


@dataclass(frozen=True)
class Reach:
    """Which of a patient's channels can be used (consent given, not opted out, not failing)."""

    preferred: str
    email: str | None
    sms: bool
    telegram: bool

    def delivery(self) -> str:
        """email, letter or digital (SMS/Telegram: the reminders)."""
        if self.preferred == "email" and self.email:
            return EMAIL
        if self.preferred == "none" or not (self.email or self.sms or self.telegram):
            return LETTER
        return DIGITAL


def _reach(s: Session, ids: list[int]) -> dict[int, Reach]:
    p = Patient
    sms_out = exists().where(SmsOptOut.phone == p.phone, SmsOptOut.opted_out.is_(True))
    email_out = exists().where(EmailOptOut.address == func.lower(p.email),
                               EmailOptOut.opted_out.is_(True))
    found = {}
    for row in s.execute(
        select(p.id, p.preferred_channel, p.email, p.email_consent, p.email_opted_out_at,
               p.email_failing_at, email_out.label("email_out"), p.phone, p.sms_consent,
               p.sms_opted_out_at, sms_out.label("sms_out"), p.telegram_chat_id,
               p.telegram_opted_out_at).where(p.id.in_(ids))
    ):
        email_ok = bool(row.email and row.email_consent and row.email_opted_out_at is None
                        and row.email_failing_at is None and not row.email_out)
        sms_ok = bool(row.phone and row.sms_consent and row.sms_opted_out_at is None
                      and not row.sms_out)
        telegram_ok = row.telegram_chat_id is not None and row.telegram_opted_out_at is None
        found[row.id] = Reach(row.preferred_channel, row.email if email_ok else None, sms_ok,
                              telegram_ok)
    return found


def owing_accounts(engine: Engine, batch: int = 500) -> Iterator[list[int]]:
    """Patient ids whose ledger nets to more than zero, in batches, by id: a superset of the
    accounts with an amount due (due now > 0 needs a positive total); the statement's own
    computation (the one rule) then decides."""
    le = LedgerEntry
    net = func.sum(case(*((le.type == t.value, le.amount_cents * sign)
                          for t, sign in SIGN.items()), else_=0))
    with Session(engine) as s:
        ids = list(s.scalars(select(le.patient_id).group_by(le.patient_id)
                             .having(net > 0).order_by(le.patient_id)))
    for i in range(0, len(ids), batch):
        yield ids[i:i + batch]


def _insert(session: Session):
    mod = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return mod.insert(StatementNotice)


def _notice(s: Session, content: StatementContent, cycle: date, channel: str,
            now: datetime) -> StatementNotice | None:
    """The account's notice row for the cycle, written now if new; None when an earlier run
    already sent, printed or gave up on it."""
    s.execute(_insert(s).values(patient_id=content.patient_id, cycle=cycle, channel=channel,
                                status="pending", due_cents=content.due_now, attempts=0,
                                created_at=now, updated_at=now)
              .on_conflict_do_nothing(index_elements=["patient_id", "cycle"]))
    row = s.scalars(select(StatementNotice).where(StatementNotice.patient_id == content.patient_id,
                                                  StatementNotice.cycle == cycle)).one()
    if row.status in DONE:
        return None
    row.channel, row.due_cents, row.updated_at = channel, content.due_now, now
    return row


class Progress:
    """A one-line progress bar on stderr (only on a terminal, unless forced)."""

    def __init__(self, total: int, enabled: bool | None = None, width: int = 30):
        self.total, self.done, self.width = max(total, 1), 0, width
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.enabled and (self.done % 50 == 0 or self.done >= self.total):
            filled = self.width * self.done // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] "
                             f"{self.done}/{self.total} accounts")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def run_statements(settings: Settings, engine: Engine, cycle: date, out_dir: Path, *,
                   now: datetime, email: EmailChannel | None = None,
                   progress: Callable[[int], Progress] | None = None) -> StatementRunReport:
    """The statement run of `cycle` (see the module's docstring); files go under out_dir:
    statements/<account>.pdf, letters-<cycle>.pdf and letters-<cycle>.csv."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    report = StatementRunReport(cycle)
    pdf_dir = out_dir / "statements"
    pdf_dir.mkdir(parents=True, exist_ok=True)
    clinic = Clinic.from_settings(settings)
    batches = list(owing_accounts(engine))
    bar = (progress or (lambda n: Progress(n)))(sum(len(b) for b in batches))
    letters: list[tuple[int, StatementContent]] = []
    for ids in batches:
        with Session(engine) as s:
            with s.begin():
                reach = _reach(s, ids)
            for pid in ids:
                bar.step()
                with s.begin():
                    claimed = _prepare(s, settings, pid, cycle, clinic, reach[pid], pdf_dir,
                                       now, email is not None, report, letters)
                if claimed is not None:  # committed as 'sending' first: never sent twice
                    row_id, content, pdf = claimed
                    _send(s, settings, email, row_id, content, reach[pid].email, pdf, now,
                          report, engine)
    if letters:
        _print_batch(engine, letters, cycle, out_dir, now, report)
    return report


def _prepare(s: Session, settings: Settings, pid: int, cycle: date, clinic: Clinic,
             reach: Reach, pdf_dir: Path, now: datetime, can_email: bool,
             report: StatementRunReport, letters: list) -> tuple | None:
    """One account's statement PDF and notice row; an email to send is returned claimed."""
    content = statement_content(s, pid, settings, cycle, clinic)
    if content.due_now <= 0:
        return None
    report.statements += 1
    pdf = statement_pdf(content)
    (pdf_dir / f"{content.account_number}.pdf").write_bytes(pdf)
    how = reach.delivery()
    report.delivery[how] += 1
    if how == DIGITAL:
        return None
    row = _notice(s, content, cycle, "email" if how == EMAIL else "letter", now)
    if row is None:
        report.already_done += 1
        return None
    if how == LETTER:
        if content.address is None:
            row.status, row.reason = "skipped", "no mailing address"
            report.no_address.append(content.account_number)
        else:
            letters.append((row.id, content))
        return None
    if not can_email:
        report.email_waiting += 1
        return None
    row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
    return row.id, content, pdf


def _send(s: Session, settings: Settings, email: EmailChannel, row_id: int,
          content: StatementContent, address: str, pdf: bytes, now: datetime,
          report: StatementRunReport, engine: Engine) -> None:
    notice = statement_notice(settings, content, address, now,
                              pdf if settings.statement_email_attach_pdf else None)
    result = email.send_email_now(notice, content.lang)
    with s.begin():
        _record(s, row_id, notice, address, result, content, now, report)
    if is_bounce(result.error_code):
        email_consent.record_failing(engine, address, result.error_code, now)


def _record(s: Session, row_id: int, notice, address: str, result, content: StatementContent,
            now: datetime, report: StatementRunReport) -> None:
    row = s.get(StatementNotice, row_id)
    message = Message(direction=OUTBOUND, channel="email", sender_key=f"email:{address}",
                      text="\n\n".join(notice.paragraphs), status=result.status,
                      external_id=result.external_id, error_code=result.error_code,
                      created_at=now, updated_at=now)
    s.add(message)
    s.flush()
    row.message_id, row.updated_at = message.id, now
    if result.status == "sent":
        row.status, row.sent_at, row.provider_id = "sent", now, result.external_id
        report.emailed += 1
        audit.record(s, ACTOR, "statement_emailed", content.patient_id, at=now,
                     cycle=report.cycle.isoformat())
        return
    code = result.error_code or "unknown"
    row.error_code = code[:16]
    outcome = failure_outcome(code)
    if outcome == "retry":
        row.status, row.reason = "pending", "temporary failure: next run"
        report.email_waiting += 1
        return
    row.status = "unknown" if outcome == "unknown" else "failed"
    row.reason = "may have been sent: not resent" if outcome == "unknown" else "refused"
    report.email_failed += 1


def _print_batch(engine: Engine, letters: list[tuple[int, StatementContent]], cycle: date,
                 out_dir: Path, now: datetime, report: StatementRunReport) -> None:
    """One PDF of every letter, in manifest order, then the manifest; the notices are
    marked printed only once both files are written."""
    contents = [c for _, c in letters]
    title = text("statement.title") + f" - {cycle.isoformat()}"
    pdf, layout = render(contents, title)
    batch = out_dir / f"letters-{cycle.isoformat()}.pdf"
    manifest = out_dir / f"letters-{cycle.isoformat()}.csv"
    batch.write_bytes(pdf)
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sequence", "account_number", "recipient", "address_line1",
                    "address_line2", "city", "state", "zip", "first_page", "pages"])
        for n, (c, start, pages) in enumerate(
                zip(contents, layout.starts, layout.pages, strict=True), 1):
            a = c.address
            w.writerow([n, c.account_number, a.name, a.line1, a.line2 or "", a.city, a.state,
                        a.zip, start, pages])
    with Session(engine) as s, s.begin():
        ids = [row_id for row_id, _ in letters]
        for i in range(0, len(ids), 500):
            s.execute(update(StatementNotice).where(StatementNotice.id.in_(ids[i:i + 500]))
                      .values(status="printed", sent_at=now, updated_at=now))
        for c in contents:
            audit.record(s, ACTOR, "statement_printed", c.patient_id, at=now,
                         cycle=cycle.isoformat())
    report.letters, report.letter_pages = len(contents), sum(layout.pages)
    report.batch, report.manifest = batch, manifest
