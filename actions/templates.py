"""Every word billbot says to a patient. Plain text that fits SMS: short, no markdown; long
content comes back as several messages. Nothing here reads the database or the clock."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from billing.core.money import Cents, fmt

SMS_CHUNK = 320  # two SMS segments: long lists are cut between lines, never inside one


def day(value: date | None) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value else "no date"


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


# Conversation
def greet(clinic: str) -> str:
    return (f"Hi, I'm billbot, the billing assistant for {clinic}. Ask me about your balance, "
            "a charge, a refund, a payment plan, insurance or a statement.")


def goodbye() -> str:
    return "Thanks for getting in touch. Goodbye!"


def thanks() -> str:
    return "You're welcome. Anything else I can help with?"


def help_text(clinic_phone: str) -> list[str]:
    return [
        ("I can help with: BAL (balance), PAY (how to pay), PLAN (payment plan), a charge you "
        "think is wrong, refunds, insurance coverage and estimates, an itemized statement, "
        "financial assistance, and updating your insurance."),
        f"Reply AGENT to reach a person, or call {clinic_phone}.",
    ]


def out_of_scope(clinic_phone: str) -> str:
    return ("Sorry, I can only help with billing: balances, payments, payment plans, charges, "
            f"refunds, insurance and financial assistance. For anything else please call "
            f"{clinic_phone}.")


def bot_challenge() -> str:
    return ("I'm billbot, an automated assistant for billing questions. Reply AGENT any time "
            "to reach a person.")


def inform_unprompted() -> str:
    return "Thanks. What can I help you with? For example BAL for your balance."


def not_understood() -> str:
    return ("Sorry, I didn't understand that. You can ask about your balance, a payment plan, "
            "a charge, a refund or insurance, or reply AGENT for a person.")


def ok_nothing_pending() -> str:
    return "OK. What else can I help you with?"


def declined() -> str:
    return "No problem. Anything else I can help with?"


# Verification
def ask_dob() -> str:
    return ("To protect your privacy I need to confirm who you are. What is your date of "
            "birth? (for example 03/14/1985)")


def ask_family() -> str:
    return ("To protect your privacy: more than one patient uses this number. Which patient is "
            "this about? Reply with their first name and date of birth.")


def ask_first_name() -> str:
    return "Thanks. What is that patient's first name?"


def ask_family_dob() -> str:
    return "Thanks. What is that patient's date of birth? (for example 03/14/1985)"


def ask_account_and_dob() -> str:
    return ("To protect your privacy I need to confirm who you are. Please reply with your "
            "account number (on your statement) and your date of birth.")


def ask_dob_for_account() -> str:
    return "Thanks. Now your date of birth, please (for example 03/14/1985)."


def ask_account_number() -> str:
    return "Thanks. Now your account number, please (it's on your statement)."


def verification_retry_hint() -> str:
    return "I couldn't find a date in that. Please send the date of birth like 03/14/1985."


def verified(first_name: str) -> str:
    return f"Thanks {first_name}, you're verified."


def verification_failed(tries_left: int) -> str:
    tries = "1 more try" if tries_left == 1 else f"{tries_left} more tries"
    return f"Sorry, that doesn't match our records. You have {tries}."


def _then(text: str, away: str | None) -> str:
    """A reply that hands the patient to a person, with when one will answer if the office
    is closed now (clinic.office_hours.away_notice)."""
    return f"{text} {away}" if away else text


def verification_locked(minutes: int, office_hours: str, clinic_phone: str,
                        away: str | None = None) -> str:
    return _then(f"For your security I can't try verification again for {minutes} minutes. "
                 f"I've asked our billing team to follow up ({office_hours}), or call "
                 f"{clinic_phone}.", away)


def still_locked(office_hours: str, clinic_phone: str) -> str:
    return ("For your security, verification is paused for a while after too many attempts. "
            f"Our billing team can help ({office_hours}) at {clinic_phone}.")


def account_locked(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    """The same words whether the account exists or not, and whatever the date given."""
    return _then("For your security I can't verify anyone for this account right now: there "
                 "have been too many attempts. I've asked our billing team to follow up "
                 f"({office_hours}), or call {clinic_phone}.", away)


def account_still_locked(office_hours: str, clinic_phone: str) -> str:
    return ("For your security I can't verify anyone for this account right now: there have "
            "been too many attempts. Reply AGENT to talk to a person, or call our billing "
            f"team at {clinic_phone} ({office_hours}).")


def verification_stopped() -> str:
    return "OK, I've stopped. I can't share account details until you're verified."


# Escalation
def escalated(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    return _then(f"I've passed this conversation to our billing team. A person will reply "
                 f"here during office hours ({office_hours}). For anything urgent call "
                 f"{clinic_phone}.", away)


def frustration(office_hours: str, away: str | None = None) -> str:
    return _then("I'm sorry this has been frustrating. I've asked a member of our billing "
                 f"team to look at your conversation; they'll reply here ({office_hours}).",
                 away)


def fallback_escalated(office_hours: str, clinic_phone: str, away: str | None = None) -> str:
    return _then("Sorry, I'm still not understanding. I've asked a person from our billing "
                 f"team to reply here ({office_hours}). You can also call {clinic_phone}.",
                 away)


# Balance and itemisation
def balance(first_name: str, due_now: Cents, due_date: date | None, pending: Cents,
            credit: Cents, plan_next: tuple[Cents, date] | None) -> list[str]:
    if credit > 0:
        lines = [(f"Hi {first_name}. Your account has a credit of {fmt(credit)}; you owe "
                 "nothing right now. Ask about a refund if you'd like it back.")]
    elif due_now > 0:
        when = f", due by {day(due_date)}" if due_date else ""
        lines = [f"Hi {first_name}. You owe {fmt(due_now)} now{when}."]
    else:
        lines = [f"Hi {first_name}. You have nothing due right now."]
    if pending > 0:
        lines.append(f"{fmt(pending)} is waiting on insurance and isn't due yet.")
    if plan_next:
        lines.append(f"Your payment plan's next payment is {fmt(plan_next[0])} on "
                     f"{day(plan_next[1])}.")
    return [" ".join(lines), "Would you like the itemized list by visit? Reply YES or NO."]


def visit_line(service_date: date | None, description: str, charge: Cents, insurance_paid: Cents,
               adjustments: Cents, patient_paid: Cents, remaining: Cents,
               pending: Cents, refunded: Cents = 0, moved: Cents = 0) -> str:
    """One visit, so that charged - paid - adjustments + refunded + moved = owed (or pending)."""
    parts = [f"{day(service_date)} {description}: charged {fmt(charge)}"]
    if insurance_paid:
        parts.append(f"insurance paid {fmt(insurance_paid)}")
    if adjustments:
        parts.append(f"adjustments {fmt(adjustments)}")
    if patient_paid:
        parts.append(f"you paid {fmt(patient_paid)}")
    if refunded:
        parts.append(f"refunded to you {fmt(refunded)}")
    if moved:
        parts.append(f"{fmt(moved)} extra moved to your other visits or credit")
    if pending > 0:
        parts.append(f"waiting on insurance {fmt(pending)}")
    else:
        parts.append(f"you owe {fmt(remaining)}")
    return ", ".join(parts) + "."


def refunded_beyond_credit_line(amount: Cents) -> str:
    return f"Refunded to you beyond your credit, due now: {fmt(amount)}."


def no_visits() -> str:
    return "There are no visits on your account."


# Statement
def statement(account_number: str, today: date, visit_lines: Sequence[str], due_now: Cents,
              pending: Cents, credit: Cents) -> list[str]:
    """The itemized statement as messages: header, one line per visit, totals."""
    lines = [f"Statement for account {account_number} as of {day(today)}:"]
    lines += list(visit_lines) or [no_visits()]
    total = f"Due now: {fmt(due_now)}. Waiting on insurance: {fmt(pending)}."
    if credit:
        total += f" Credit: {fmt(credit)}."
    lines.append(total)
    return chunk(lines)


def statement_link(url: str, minutes: int) -> str:
    hours = max(1, minutes // 60)
    return (f"Here is your itemized statement: {url} (the link works for {hours} hours and "
            "only for you).")


# Payments
def make_payment(due_now: Cents, link: str, methods: str) -> list[str]:
    head = (f"You owe {fmt(due_now)} now." if due_now > 0
            else "You have nothing due right now.")
    return [f"{head} Pay securely online: {link}",
            f"We accept {methods}. Please never send card numbers by text or chat."]


# Refunds
def refund_line(amount: Cents, status: str, method: str | None, expected: date | None,
                requested: date | None = None, late: bool = False) -> str:
    text = f"Refund of {fmt(amount)}: {status}"
    if late and requested:
        text += f" {day(requested)}"
    if method:
        text += f", by {method}"
    if status == "issued" and expected:
        text += f", sent {day(expected)}"
    elif late and expected:
        return (text + f". It is late: we expected it by {day(expected)}. Our billing team has "
                "it on their list of late items and will follow up; reply AGENT to talk to a "
                "person now.")
    elif expected:
        text += f", expected by {day(expected)}"
    return text + "."


def no_refunds() -> str:
    return "You have no refunds on file."


def offer_refund(credit: Cents) -> str:
    return (f"Your account has a credit of {fmt(credit)}. Would you like me to request a refund "
            "of it? Reply YES or NO.")


def refund_requested(amount: Cents, reference: str, expected: date) -> str:
    return (f"Done: refund request {reference} for {fmt(amount)} is with our billing team for "
            f"approval. If approved, expect it by {day(expected)}.")


def refund_not_possible(reason: str) -> str:
    return f"I couldn't request a refund: {reason}."


# Disputes
def dispute_findings(summaries: Sequence[str]) -> list[str]:
    return chunk(["I checked your account and found:"] + [f"- {s}" for s in summaries])


def dispute_no_findings() -> str:
    return ("I checked your account and didn't find an error in the charges, but a person can "
            "review anything that looks wrong to you.")


def dispute_opened(reference: str) -> str:
    return (f"I've opened dispute case {reference}. Reminders are paused on those charges "
            "while we review. Would you like a person from billing to contact you? Reply YES "
            "or NO.")


def dispute_already_open(reference: str, late_since: date | None = None) -> str:
    """late_since: the date by which an answer was expected, when it has passed."""
    if late_since:
        return (f"Your dispute case {reference} is still open: we expected to answer it by "
                f"{day(late_since)}, and we're sorry it is late. It is on our billing team's "
                "list of late items. Would you like a person from billing to contact you? "
                "Reply YES or NO.")
    return (f"Your dispute case {reference} is already open and being reviewed. Would you like "
            "a person from billing to contact you? Reply YES or NO.")


# Payment plans
def plan_exists(monthly: Cents, next_due: date | None, remaining: int) -> str:
    nxt = f" The next one is due {day(next_due)}." if next_due else ""
    return (f"You already have a payment plan: {fmt(monthly)} a month, {remaining} payments "
            f"left.{nxt}")


def plan_nothing_due() -> str:
    return "You have nothing due right now, so there's nothing to set a plan up for."


def ask_income() -> str:
    return ("To suggest a plan you can afford: about how much is your household's monthly "
            "income? (for example 3200)")


def ask_income_again() -> str:
    return "Please reply with an amount, for example 2500 a month. Or say STOP to cancel."


def plan_options(balance: Cents, options: Sequence[tuple[Cents, int, date]]) -> list[str]:
    lines = [f"Here are plans for your {fmt(balance)} balance:"]
    for n, (monthly, months, first) in enumerate(options, 1):
        lines.append(f"{n}) {fmt(monthly)} a month for {months} months, first payment "
                     f"{day(first)}")
    return chunk(lines) + ["Which one works for you? Reply with the option number."]


def ask_choice_again(count: int) -> str:
    return f"Please reply with an option number from 1 to {count}, or STOP to cancel."


def plan_too_small(balance: Cents, link: str) -> str:
    return (f"Your {fmt(balance)} balance is too small to split into a plan. You can pay it "
            f"online: {link}")


def plan_unaffordable_ask_household() -> str:
    return ("No plan within our limits fits that income, but you may qualify for financial "
            "assistance. How many people are in your household?")


def plan_confirm(monthly: Cents, months: int, first: date, last: date) -> str:
    return (f"You chose {months} monthly payments of about {fmt(monthly)}, from {day(first)} to "
            f"{day(last)}. Shall I set it up? Reply YES or NO.")


def plan_created(schedule: Sequence[tuple[int, date, Cents]]) -> list[str]:
    lines = ["Your payment plan is set up. Schedule:"]
    lines += [f"{seq}. {day(due)}: {fmt(amount)}" for seq, due, amount in schedule]
    lines.append("We'll remind you before each payment.")
    return chunk(lines)


def plan_not_created(reason: str) -> str:
    return f"I couldn't set the plan up: {reason}."


def cancelled() -> str:
    return "OK, cancelled. Anything else I can help with?"


# Financial assistance
def ask_household() -> str:
    return ("I can check whether you qualify for financial assistance. How many people are in "
            "your household, including you?")


def ask_household_again() -> str:
    return "Please reply with a number of people, for example 3. Or say STOP to cancel."


def ask_annual_income() -> str:
    return ("And your household's total income? Say whether it's per month or per year, for "
            "example 3200 a month or 40000 a year.")


def assistance_result(household: int, annual_income: Cents, percent: int, tier: str,
                      discount: int, link: str) -> list[str]:
    basis = (f"For a household of {household} with {fmt(annual_income)} a year "
             f"({percent}% of the federal poverty guideline)")
    if tier == "free":
        verdict = f"{basis}, you likely qualify for free care (100% off)."
    elif tier == "discount":
        verdict = f"{basis}, you likely qualify for a {discount}% discount."
    else:
        verdict = f"{basis}, you're above our assistance limits, but a payment plan may help."
    return [verdict, (f"To apply, fill in the form at {link} . We'll pause collection while "
            "we review it.")]


# Insurance
def coverage_on_file(payer: str, plan_name: str, member_tail: str, deductible: Cents,
                     deductible_met: Cents, oop_max: Cents, oop_met: Cents) -> str:
    return (f"On file: {payer} {plan_name} (member id ending {member_tail}). Deductible: "
            f"{fmt(deductible_met)} of {fmt(deductible)} met. Out-of-pocket: {fmt(oop_met)} of "
            f"{fmt(oop_max)} met.")


def no_coverage() -> str:
    return ("We have no active insurance on file for you. Reply NEW INSURANCE to give us your "
            "insurance details.")


def claim_line(service_date: date | None, description: str, status: str,
               late_since: date | None = None) -> str:
    """late_since: the date by which the insurer's decision was expected, when it has passed."""
    words = {"pending": "waiting on insurance", "adjudicated": "processed by insurance",
             "denied": "denied by insurance", "self_pay": "self-pay"}
    text = f"{day(service_date)} {description}: {words.get(status, status)}"
    if late_since:
        return (text + f", longer than usual (we expected a decision by {day(late_since)}). "
                "Our billing team is following up with your insurer; you don't owe it until "
                "they decide.")
    return text + "."


def estimate(description: str, price: Cents, patient_total: Cents, insured: bool) -> str:
    who = "with your coverage, you'd pay about" if insured else "without insurance, you'd pay"
    return (f"Estimate for {description}: list price {fmt(price)}; {who} {fmt(patient_total)}. "
            "This is an upper bound; the final amount depends on your insurer.")


def no_estimate(service: str) -> str:
    return f"I couldn't find \"{service[:40]}\" on our price list. Call us for an estimate."


def ask_payer() -> str:
    return "What is the name of your new insurance company?"


def ask_member_id() -> str:
    return "And your member id? It's on your insurance card."


def ask_member_id_again() -> str:
    return "Please send the member id exactly as on the card (letters and numbers)."


def insurance_change_recorded(payer: str) -> str:
    return (f"Thanks. I've sent your new insurance ({payer}) to our billing team; they'll "
            "confirm it with the insurer and update your account.")


def insurance_change_invalid(reason: str) -> str:
    return f"I couldn't record that: {reason}. Please try again."


def reverify() -> str:
    return "For your security I need to confirm who you are again."
