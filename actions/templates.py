"""What billbot says to a patient in the dialogue: each function picks the catalogue's
messages (clinic.wording, by id) and composes them. Plain text that fits SMS: short, no
markdown; long content comes back as several messages. Nothing here reads the database or
the clock, and no sentence is written here: they are all in the catalogue."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from billing.core.money import Cents, fmt
from clinic.wording import day
from clinic.wording import text as _

SMS_CHUNK = 320  # two SMS segments: long lists are cut between lines, never inside one


def chunk(lines: Sequence[str], limit: int = SMS_CHUNK) -> list[str]:
    """Join lines into messages no longer than limit (a longer single line stays whole)."""
    messages: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def _parts(parts: Sequence[str]) -> str:
    """Parts of one line, as the catalogue's comments describe: 'a, b, c.'"""
    return ", ".join(parts) + "."


# Conversation
def greet(clinic: str) -> str:
    return _("greet", clinic=clinic)


def goodbye() -> str:
    return _("goodbye")


def thanks() -> str:
    return _("thanks")


def help_text(clinic_phone: str) -> list[str]:
    return [_("help.topics"), _("help.agent", clinic_phone=clinic_phone)]


def out_of_scope(clinic_phone: str) -> str:
    return _("out_of_scope", clinic_phone=clinic_phone)


def bot_challenge() -> str:
    return _("bot_challenge")


def inform_unprompted() -> str:
    return _("inform_unprompted")


def not_understood() -> str:
    return _("not_understood")


def ok_nothing_pending() -> str:
    return _("ok_nothing_pending")


def declined() -> str:
    return _("declined")


# Verification
def ask_dob() -> str:
    return _("verify.ask_dob")


def ask_family() -> str:
    return _("verify.ask_family")


def ask_first_name() -> str:
    return _("verify.ask_first_name")


def ask_family_dob() -> str:
    return _("verify.ask_family_dob")


def ask_account_and_dob() -> str:
    return _("verify.ask_account_and_dob")


def ask_dob_for_account() -> str:
    return _("verify.ask_dob_for_account")


def ask_account_number() -> str:
    return _("verify.ask_account_number")


def verification_retry_hint() -> str:
    return _("verify.retry_hint")


def verified(first_name: str) -> str:
    return _("verify.verified", first_name=first_name)


def verification_failed(tries_left: int) -> str:
    if tries_left == 1:
        return _("verify.failed.one")
    return _("verify.failed.other", tries_left=tries_left)


def _then(text: str, away: str | None) -> str:
    """A reply that hands the patient to a person, with when one will answer if the office
    is closed now (clinic.office_hours.away_notice)."""
    return f"{text} {away}" if away else text


def verification_locked(minutes: int, office_hours: str, clinic_phone: str,
                        away: str | None = None) -> str:
    return _then(_("verify.locked", minutes=minutes, office_hours=office_hours,
                   clinic_phone=clinic_phone), away)


def still_locked(office_hours: str, clinic_phone: str) -> str:
    return _("verify.still_locked", office_hours=office_hours, clinic_phone=clinic_phone)


def account_locked(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    """The same words whether the account exists or not, and whatever the date given."""
    return _then(_("verify.account_locked", office_hours=office_hours,
                   clinic_phone=clinic_phone), away)


def account_still_locked(office_hours: str, clinic_phone: str) -> str:
    return _("verify.account_still_locked", office_hours=office_hours,
             clinic_phone=clinic_phone)


def verification_stopped() -> str:
    return _("verify.stopped")


# Escalation
def escalated(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    return _then(_("escalated", office_hours=office_hours, clinic_phone=clinic_phone), away)


def frustration(office_hours: str, away: str | None = None) -> str:
    return _then(_("escalated.frustration", office_hours=office_hours), away)


def fallback_escalated(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    return _then(_("escalated.fallback", office_hours=office_hours, clinic_phone=clinic_phone),
                 away)


# Balance and itemisation
def balance(first_name: str, due_now: Cents, due_date: date | None, pending: Cents,
            credit: Cents, plan_next: tuple[Cents, date] | None) -> list[str]:
    if credit > 0:
        lines = [_("balance.credit", first_name=first_name, credit=fmt(credit))]
    elif due_now > 0 and due_date:
        lines = [_("balance.due_by", first_name=first_name, due_now=fmt(due_now),
                   due_date=day(due_date))]
    elif due_now > 0:
        lines = [_("balance.due", first_name=first_name, due_now=fmt(due_now))]
    else:
        lines = [_("balance.nothing_due", first_name=first_name)]
    if pending > 0:
        lines.append(_("balance.pending", pending=fmt(pending)))
    if plan_next:
        lines.append(_("balance.plan_next", amount=fmt(plan_next[0]), date=day(plan_next[1])))
    return [" ".join(lines), _("balance.offer_itemized")]


def visit_line(service_date: date | None, description: str, charge: Cents, insurance_paid: Cents,
               adjustments: Cents, patient_paid: Cents, remaining: Cents,
               pending: Cents, refunded: Cents = 0, moved: Cents = 0) -> str:
    """One visit, so that charged - paid - adjustments + refunded + moved = owed (or pending)."""
    parts = [_("visit.charged", date=day(service_date), description=description,
               amount=fmt(charge))]
    for msg_id, amount in (("visit.insurance_paid", insurance_paid),
                           ("visit.adjustments", adjustments),
                           ("visit.you_paid", patient_paid),
                           ("visit.refunded", refunded),
                           ("visit.moved", moved)):
        if amount:
            parts.append(_(msg_id, amount=fmt(amount)))
    if pending > 0:
        parts.append(_("visit.pending", amount=fmt(pending)))
    else:
        parts.append(_("visit.owed", amount=fmt(remaining)))
    return _parts(parts)


def refunded_beyond_credit_line(amount: Cents) -> str:
    return _("visit.refunded_beyond_credit", amount=fmt(amount))


def no_visits() -> str:
    return _("visit.none")


# Statement
def statement(account_number: str, today: date, visit_lines: Sequence[str], due_now: Cents,
              pending: Cents, credit: Cents) -> list[str]:
    """The itemized statement as messages: header, one line per visit, totals."""
    lines = [_("statement.header", account_number=account_number, date=day(today))]
    lines += list(visit_lines) or [no_visits()]
    if credit:
        lines.append(_("statement.totals_credit", due_now=fmt(due_now), pending=fmt(pending),
                       credit=fmt(credit)))
    else:
        lines.append(_("statement.totals", due_now=fmt(due_now), pending=fmt(pending)))
    return chunk(lines)


def statement_link(url: str, minutes: int) -> str:
    return _("statement.link", url=url, hours=max(1, minutes // 60))


# Payments
def make_payment(due_now: Cents, link: str, methods: str) -> list[str]:
    head = (_("payment.due", due_now=fmt(due_now), link=link) if due_now > 0
            else _("payment.nothing_due", link=link))
    return [head, _("payment.methods", methods=methods)]


# Refunds
REFUND_STATUS = {"requested": "refund.status.requested", "approved": "refund.status.approved",
                 "issued": "refund.status.issued", "rejected": "refund.status.rejected"}
CLAIM_STATUS = {"pending": "claim.status.pending", "adjudicated": "claim.status.adjudicated",
                "denied": "claim.status.denied", "self_pay": "claim.status.self_pay"}


def refund_status(status: str) -> str:
    """The patient's word for a refund's status (the raw value if the catalogue has none)."""
    return _(REFUND_STATUS[status]) if status in REFUND_STATUS else status


def refund_line(amount: Cents, status: str, method: str | None, expected: date | None,
                requested: date | None = None, late: bool = False) -> str:
    word = refund_status(status)
    if late and requested:
        parts = [_("refund.head_requested_on", amount=fmt(amount), status=word,
                   requested=day(requested))]
    else:
        parts = [_("refund.head", amount=fmt(amount), status=word)]
    if method:
        parts.append(_("refund.by_method", method=method))
    if status == "issued" and expected:
        parts.append(_("refund.sent", date=day(expected)))
    elif late and expected:
        return _parts(parts) + " " + _("refund.late", date=day(expected))
    elif expected:
        parts.append(_("refund.expected", date=day(expected)))
    return _parts(parts)


def no_refunds() -> str:
    return _("refund.none")


def offer_refund(credit: Cents) -> str:
    return _("refund.offer", credit=fmt(credit))


def refund_requested(amount: Cents, reference: str, expected: date) -> str:
    return _("refund.requested", reference=reference, amount=fmt(amount), date=day(expected))


def refund_not_possible(reason: str) -> str:
    return _("refund.not_possible", reason=reason)


# Disputes
def dispute_findings(summaries: Sequence[str]) -> list[str]:
    return chunk([_("dispute.findings")] + [f"- {s}" for s in summaries])


def dispute_no_findings() -> str:
    return _("dispute.no_findings")


def dispute_opened(reference: str) -> str:
    return _("dispute.opened", reference=reference)


def dispute_already_open(reference: str, late_since: date | None = None) -> str:
    """late_since: the date by which an answer was expected, when it has passed."""
    if late_since:
        return _("dispute.already_open_late", reference=reference, date=day(late_since))
    return _("dispute.already_open", reference=reference)


# Payment plans
def plan_exists(monthly: Cents, next_due: date | None, remaining: int) -> str:
    if next_due:
        return _("plan.exists_next_due", monthly=fmt(monthly), remaining=remaining,
                 date=day(next_due))
    return _("plan.exists", monthly=fmt(monthly), remaining=remaining)


def plan_nothing_due() -> str:
    return _("plan.nothing_due")


def ask_income() -> str:
    return _("plan.ask_income")


def ask_income_again() -> str:
    return _("plan.ask_income_again")


def plan_options(balance: Cents, options: Sequence[tuple[Cents, int, date]]) -> list[str]:
    lines = [_("plan.options", balance=fmt(balance))]
    for n, (monthly, months, first) in enumerate(options, 1):
        lines.append(_("plan.option", number=n, monthly=fmt(monthly), months=months,
                       first=day(first)))
    return chunk(lines) + [_("plan.ask_choice")]


def ask_choice_again(count: int) -> str:
    return _("plan.ask_choice_again", count=count)


def plan_too_small(balance: Cents, link: str) -> str:
    return _("plan.too_small", balance=fmt(balance), link=link)


def plan_unaffordable_ask_household() -> str:
    return _("plan.unaffordable_ask_household")


def plan_confirm(monthly: Cents, months: int, first: date, last: date) -> str:
    return _("plan.confirm", months=months, monthly=fmt(monthly), first=day(first),
             last=day(last))


def plan_created(schedule: Sequence[tuple[int, date, Cents]]) -> list[str]:
    lines = [_("plan.created")]
    lines += [_("plan.installment", seq=seq, date=day(due), amount=fmt(amount))
              for seq, due, amount in schedule]
    lines.append(_("plan.will_remind"))
    return chunk(lines)


def plan_not_created(reason: str) -> str:
    return _("plan.not_created", reason=reason)


def plan_balance_changed() -> str:
    return plan_not_created(_("plan.balance_changed"))


def cancelled() -> str:
    return _("cancelled")


# Financial assistance
def ask_household() -> str:
    return _("assistance.ask_household")


def ask_household_again() -> str:
    return _("assistance.ask_household_again")


def ask_annual_income() -> str:
    return _("assistance.ask_income")


def assistance_result(household: int, annual_income: Cents, percent: int, tier: str,
                      discount: int, link: str) -> list[str]:
    basis = {"household": household, "income": fmt(annual_income), "percent": percent}
    if tier == "free":
        verdict = _("assistance.free", **basis)
    elif tier == "discount":
        verdict = _("assistance.discount", discount=discount, **basis)
    else:
        verdict = _("assistance.above_limits", **basis)
    return [verdict, _("assistance.apply", link=link)]


# Insurance
def coverage_on_file(payer: str, plan_name: str, member_tail: str, deductible: Cents,
                     deductible_met: Cents, oop_max: Cents, oop_met: Cents) -> str:
    return _("insurance.on_file", payer=payer, plan_name=plan_name, member_tail=member_tail,
             deductible_met=fmt(deductible_met), deductible=fmt(deductible),
             oop_met=fmt(oop_met), oop_max=fmt(oop_max))


def no_coverage() -> str:
    return _("insurance.none")


def recent_claims(claim_lines: Sequence[str]) -> list[str]:
    return chunk([_("claim.recent"), *claim_lines])


def claim_line(service_date: date | None, description: str, status: str,
               late_since: date | None = None) -> str:
    """late_since: the date by which the insurer's decision was expected, when it has passed."""
    word = _(CLAIM_STATUS[status]) if status in CLAIM_STATUS else status
    if late_since:
        return _("claim.line_late", date=day(service_date), description=description,
                 status=word, expected=day(late_since))
    return _("claim.line", date=day(service_date), description=description, status=word)


def estimate(description: str, price: Cents, patient_total: Cents, insured: bool) -> str:
    return _("estimate.insured" if insured else "estimate.uninsured", description=description,
             price=fmt(price), patient_total=fmt(patient_total))


def no_estimate(service: str) -> str:
    return _("estimate.not_found", service=service[:40])


def ask_payer() -> str:
    return _("insurance.ask_payer")


def ask_member_id() -> str:
    return _("insurance.ask_member_id")


def ask_member_id_again() -> str:
    return _("insurance.ask_member_id_again")


def insurance_change_recorded(payer: str) -> str:
    return _("insurance.change_recorded", payer=payer)


def insurance_change_invalid(reason: str) -> str:
    return _("insurance.change_invalid", reason=reason)


def reverify() -> str:
    return _("verify.again")
