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
    """Opening message: introduces billbot for this clinic and lists what it can help with."""
    return _("greet", clinic=clinic)


def goodbye() -> str:
    """Closing message when the patient ends the conversation."""
    return _("goodbye")


def thanks() -> str:
    """Reply to a patient's "thank you", asking whether they need anything else."""
    return _("thanks")


def help_text(clinic_phone: str) -> list[str]:
    """Two messages: the topics billbot handles, then how to reach a person (AGENT or the phone)."""
    return [_("help.topics"), _("help.agent", clinic_phone=clinic_phone)]


def out_of_scope(clinic_phone: str) -> str:
    """Reply to a request billbot cannot handle, pointing to the clinic's phone number."""
    return _("out_of_scope", clinic_phone=clinic_phone)


def bot_challenge() -> str:
    """Reply to "are you a bot?", saying the patient is talking to an automated assistant."""
    return _("bot_challenge")


def inform_unprompted() -> str:
    """Reply to details (a date, an account number) nobody asked for; it reveals nothing."""
    return _("inform_unprompted")


def not_understood() -> str:
    """Reply when the patient's message matched no intent, with examples of what to send."""
    return _("not_understood")


def ok_nothing_pending() -> str:
    """Reply to a "yes"/"ok" when no question is waiting for an answer."""
    return _("ok_nothing_pending")


def declined() -> str:
    """Reply when the patient answers "no" to an offer."""
    return _("declined")


# Verification
def ask_dob() -> str:
    """Question asking for the patient's date of birth, the first step of verification."""
    return _("verify.ask_dob")


def ask_family() -> str:
    """Question asked when several patients use this number: which one (first name and DOB)?"""
    return _("verify.ask_family")


def ask_first_name() -> str:
    """Question asking for the first name of the family member being verified."""
    return _("verify.ask_first_name")


def ask_family_dob() -> str:
    """Question asking for the chosen family member's date of birth."""
    return _("verify.ask_family_dob")


def ask_account_and_dob() -> str:
    """Question asking for account number and date of birth together, when neither is known yet."""
    return _("verify.ask_account_and_dob")


def ask_dob_for_account() -> str:
    """Question asking for the date of birth once the account number is known."""
    return _("verify.ask_dob_for_account")


def ask_account_number() -> str:
    """Question asking for the account number printed on the statement."""
    return _("verify.ask_account_number")


def verification_retry_hint() -> str:
    """Reply when no date could be read from the message, showing the expected format."""
    return _("verify.retry_hint")


def verified(first_name: str) -> str:
    """Confirmation that the patient is verified, greeting them by first name."""
    return _("verify.verified", first_name=first_name)


def verification_failed(tries_left: int) -> str:
    """Reply when details don't match the records, with the tries left (own wording for 1)."""
    if tries_left == 1:
        return _("verify.failed.one")
    return _("verify.failed.other", tries_left=tries_left)


def _then(text: str, away: str | None) -> str:
    """A reply that hands the patient to a person, with when one will answer if the office
    is closed now (clinic.office_hours.away_notice)."""
    return f"{text} {away}" if away else text


def verification_locked(minutes: int, office_hours: str, clinic_phone: str,
                        away: str | None = None) -> str:
    """Reply when too many failed tries lock verification for `minutes`; a person will follow up."""
    return _then(_("verify.locked", minutes=minutes, office_hours=office_hours,
                   clinic_phone=clinic_phone), away)


def still_locked(office_hours: str, clinic_phone: str) -> str:
    """Reply while verification stays paused after too many tries, with office hours and phone."""
    return _("verify.still_locked", office_hours=office_hours, clinic_phone=clinic_phone)


def account_locked(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    """The same words whether the account exists or not, and whatever the date given."""
    return _then(_("verify.account_locked", office_hours=office_hours,
                   clinic_phone=clinic_phone), away)


def account_still_locked(office_hours: str, clinic_phone: str) -> str:
    """Reply when the account (not just this chat) is still locked after too many failed tries."""
    return _("verify.account_still_locked", office_hours=office_hours,
             clinic_phone=clinic_phone)


def verification_stopped() -> str:
    """Reply when the patient stops verification: no account details until verified."""
    return _("verify.stopped")


# Escalation
def escalated(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    """Reply confirming the conversation was handed to a person, and when they will answer."""
    return _then(_("escalated", office_hours=office_hours, clinic_phone=clinic_phone), away)


def frustration(office_hours: str, away: str | None = None) -> str:
    """Reply to a frustrated patient, handing them to a person with the office hours."""
    return _then(_("escalated.frustration", office_hours=office_hours), away)


def fallback_escalated(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    """Reply when billbot failed to understand several times and handed the patient to a person."""
    return _then(_("escalated.fallback", office_hours=office_hours, clinic_phone=clinic_phone),
                 away)


# Balance and itemisation
def balance(first_name: str, due_now: Cents, due_date: date | None, pending: Cents,
            credit: Cents, plan_next: tuple[Cents, date] | None) -> list[str]:
    """Balance messages: credit, amount due (with due date if any), or nothing due; then the part
    waiting on insurance and the next plan payment, if any."""
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
    """Statement line for money refunded beyond the patient's credit, which is now owed again."""
    return _("visit.refunded_beyond_credit", amount=fmt(amount))


def no_visits() -> str:
    """Reply when the account has no visits to itemize."""
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
    """Message with the personal statement link and how many hours it works (at least one)."""
    return _("statement.link", url=url, hours=max(1, minutes // 60))


# Payments
def make_payment(due_now: Cents, link: str, methods: str) -> list[str]:
    """Two messages: what is due now (if anything) with the pay link, then accepted methods."""
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
    """One line about a refund: amount, status, method, and when it was sent or is expected; late
    refunds say so and show the request date."""
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
    """Reply when the patient has no refunds on file."""
    return _("refund.none")


def offer_refund(credit: Cents) -> str:
    """Question offering to refund the patient's credit balance."""
    return _("refund.offer", credit=fmt(credit))


def refund_requested(amount: Cents, reference: str, expected: date) -> str:
    """Confirmation of a new refund request with its reference, amount and expected date."""
    return _("refund.requested", reference=reference, amount=fmt(amount), date=day(expected))


def refund_not_possible(reason: str) -> str:
    """Reply explaining why a refund could not be requested."""
    return _("refund.not_possible", reason=reason)


# Disputes
def dispute_findings(summaries: Sequence[str]) -> list[str]:
    """Messages listing what the account check found about a disputed charge, one "- " line each,
    split to SMS size."""
    return chunk([_("dispute.findings")] + [f"- {s}" for s in summaries])


def dispute_no_findings() -> str:
    """Reply when the check found no error in the charges; a person can still review them."""
    return _("dispute.no_findings")


def dispute_opened(reference: str) -> str:
    """Confirms a new dispute case (reminders on it pause) and asks if billing should call."""
    return _("dispute.opened", reference=reference)


def dispute_already_open(reference: str, late_since: date | None = None) -> str:
    """late_since: the date by which an answer was expected, when it has passed."""
    if late_since:
        return _("dispute.already_open_late", reference=reference, date=day(late_since))
    return _("dispute.already_open", reference=reference)


# Payment plans
def plan_exists(monthly: Cents, next_due: date | None, remaining: int) -> str:
    """Reply when a plan already exists: monthly amount, payments left, next due date if known."""
    if next_due:
        return _("plan.exists_next_due", monthly=fmt(monthly), remaining=remaining,
                 date=day(next_due))
    return _("plan.exists", monthly=fmt(monthly), remaining=remaining)


def plan_nothing_due() -> str:
    """Reply to a plan request when nothing is due, so there is nothing to split."""
    return _("plan.nothing_due")


def ask_income() -> str:
    """Question asking for the household's monthly income, used to suggest an affordable plan."""
    return _("plan.ask_income")


def ask_income_again() -> str:
    """Re-asks for monthly income when the reply held no amount, with an example."""
    return _("plan.ask_income_again")


def plan_options(balance: Cents, options: Sequence[tuple[Cents, int, date]]) -> list[str]:
    """Messages listing numbered plan options (monthly, months, first payment) and asking which."""
    lines = [_("plan.options", balance=fmt(balance))]
    for n, (monthly, months, first) in enumerate(options, 1):
        lines.append(_("plan.option", number=n, monthly=fmt(monthly), months=months,
                       first=day(first)))
    return chunk(lines) + [_("plan.ask_choice")]


def ask_choice_again(count: int) -> str:
    """Re-asks for a plan option number between 1 and `count`."""
    return _("plan.ask_choice_again", count=count)


def plan_too_small(balance: Cents, link: str) -> str:
    """Reply when the balance is too small to split into a plan, with the link to pay online."""
    return _("plan.too_small", balance=fmt(balance), link=link)


def plan_unaffordable_ask_household() -> str:
    """Reply when no plan fits the income: offers assistance and asks the household size."""
    return _("plan.unaffordable_ask_household")


def plan_unaffordable() -> str:
    """No plan within the limits fits the income the patient gave (assistance follows)."""
    return _("plan.unaffordable")


def plan_offer_covers_balance(offered: Cents, due_now: Cents, link: str) -> str:
    """The monthly amount offered pays the whole balance at once: no plan needed."""
    return _("plan.offer_covers_balance", offered=fmt(offered), due_now=fmt(due_now), link=link)


def plan_offer_moved(reason: str, offered: Cents, allowed: Cents, max_months: int) -> str:
    """Why the plan is at another monthly amount than offered: the least installment, or the
    longest term the clinic allows."""
    msg_id = {"below_minimum": "plan.offer_below_minimum",
              "exceeds_max_term": "plan.offer_exceeds_max_term"}[reason]
    return _(msg_id, offered=fmt(offered), allowed=fmt(allowed), max_months=max_months)


def plan_confirm_at(monthly: Cents, months: int, last_amount: Cents, first: date,
                    last: date) -> str:
    """Asks to confirm a plan at the patient's monthly amount: how many payments, the smaller
    last one, first and last dates."""
    if last_amount == monthly:
        return _("plan.confirm_at_even", months=months, monthly=fmt(monthly), first=day(first),
                 last=day(last))
    return _("plan.confirm_at", months=months, monthly=fmt(monthly),
             last_amount=fmt(last_amount), first=day(first), last=day(last))


def plan_confirm(monthly: Cents, months: int, first: date, last: date) -> str:
    """Asks the patient to confirm the chosen plan: months, monthly amount, first and last dates."""
    return _("plan.confirm", months=months, monthly=fmt(monthly), first=day(first),
             last=day(last))


def plan_created(schedule: Sequence[tuple[int, date, Cents]]) -> list[str]:
    """Messages confirming the plan with each installment's date and amount, split to SMS size."""
    lines = [_("plan.created")]
    lines += [_("plan.installment", seq=seq, date=day(due), amount=fmt(amount))
              for seq, due, amount in schedule]
    lines.append(_("plan.will_remind"))
    return chunk(lines)


def plan_not_created(reason: str) -> str:
    """Reply explaining why the payment plan could not be set up."""
    return _("plan.not_created", reason=reason)


def plan_balance_changed() -> str:
    """Plan refusal used when the balance changed between offer and confirmation."""
    return plan_not_created(_("plan.balance_changed"))


def cancelled() -> str:
    """Reply confirming the current request was cancelled."""
    return _("cancelled")


# Financial assistance
def ask_household() -> str:
    """Question asking how many people, the patient included, are in the household."""
    return _("assistance.ask_household")


def ask_household_again() -> str:
    """Re-asks for the household size when the reply held no number."""
    return _("assistance.ask_household_again")


def ask_annual_income() -> str:
    """Question asking for the household's total income, per month or per year (for assistance)."""
    return _("assistance.ask_income")


def assistance_result(household: int, annual_income: Cents, percent: int, tier: str,
                      discount: int, link: str) -> list[str]:
    """Two messages: the assistance verdict (free care, a discount, or above limits) with its basis,
    then how to apply."""
    basis = {"household": household, "income": fmt(annual_income), "percent": percent}
    if tier == "free":
        verdict = _("assistance.free", **basis)
    elif tier == "discount":
        verdict = _("assistance.discount", discount=discount, **basis)
    else:
        verdict = _("assistance.above_limits", **basis)
    return [verdict, _("assistance.apply", link=link)]


# Explain my bill
def explain_bill(due_now: Cents, visits: Sequence[str], more: int) -> list[str]:
    """The explanation by visit: an opening line with the balance, one paragraph per visit (the
    billing core's sentences), how to see the rest, and how to reach a person if it looks wrong."""
    intro = _("explain.intro_due", due_now=fmt(due_now)) if due_now > 0 else _(
        "explain.intro_nothing_due")
    lines = [intro, *visits]
    if more:
        lines.append(_("explain.more_visits", count=more))
    return [*chunk(lines), _("explain.offer_human")]


def explain_no_visits() -> str:
    """There is no visit on the account to explain."""
    return _("explain.no_visits")


# General billing questions
def faq_not_sure() -> str:
    """A general question whose topic the model could not tell."""
    return _("faq.not_sure")


def faq_offer(topic_action: str) -> str:
    """After a general answer: offer the patient's own figure (e.g. insurance_coverage)."""
    return _(FAQ_OFFERS[topic_action])


FAQ_OFFERS = {
    "insurance_coverage": "faq.offer.insurance_coverage",
    "payment_plan": "faq.offer.payment_plan",
    "request_statement": "faq.offer.request_statement",
    "financial_assistance": "faq.offer.financial_assistance",
    "check_balance": "faq.offer.check_balance",
}


def after_verification() -> str:
    """A new account question during verification: it is answered once verified."""
    return _("verify.after_verification")


# Insurance
def coverage_on_file(payer: str, plan_name: str, member_tail: str, deductible: Cents,
                     deductible_met: Cents, oop_max: Cents, oop_met: Cents) -> str:
    """Insurance on file: payer, plan, member-ID tail, deductible and out-of-pocket met so far."""
    return _("insurance.on_file", payer=payer, plan_name=plan_name, member_tail=member_tail,
             deductible_met=fmt(deductible_met), deductible=fmt(deductible),
             oop_met=fmt(oop_met), oop_max=fmt(oop_max))


def no_coverage() -> str:
    """Reply when no active insurance is on file, suggesting NEW INSURANCE to add it."""
    return _("insurance.none")


def recent_claims(claim_lines: Sequence[str]) -> list[str]:
    """Messages headed "Recent claims:" followed by the given claim lines, split to SMS size."""
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
    """Cost estimate for a service: list price and about what the patient would pay, worded for
    insured or uninsured."""
    return _("estimate.insured" if insured else "estimate.uninsured", description=description,
             price=fmt(price), patient_total=fmt(patient_total))


def no_estimate(service: str) -> str:
    """Reply when the service isn't on the price list (name cut to 40 characters)."""
    return _("estimate.not_found", service=service[:40])


def ask_payer() -> str:
    """Question asking for the new insurance company's name."""
    return _("insurance.ask_payer")


def ask_member_id() -> str:
    """Question asking for the member ID on the new insurance card."""
    return _("insurance.ask_member_id")


def ask_member_id_again() -> str:
    """Re-asks for the member ID when the reply didn't look like one."""
    return _("insurance.ask_member_id_again")


def insurance_change_recorded(payer: str) -> str:
    """Confirmation that the new insurance went to the billing team to check with the insurer."""
    return _("insurance.change_recorded", payer=payer)


def insurance_change_invalid(reason: str) -> str:
    """Reply explaining why the insurance change could not be recorded."""
    return _("insurance.change_invalid", reason=reason)


def reverify() -> str:
    """Notice that the patient must confirm who they are again before seeing account details."""
    return _("verify.again")
