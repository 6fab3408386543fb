"""Understanding patients the way a representative does (issue 13), end to end: general billing
questions answered with no account, explain my bill, details taken from free text and never
asked again, a plan at the amount the patient offers, new questions in the middle of
verification or of a form, and assistance screening from a story. Every amount is checked
against the database through the billing core; every wording through the catalogue."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from actions import templates as t
from actions.explain import MAX_VISITS
from actions.plans import assistance_policy, plan_policy
from billing.core.assistance import load_poverty_table, screen
from billing.core.explanation import explain
from billing.core.money import fmt
from billing.core.plans import add_months, plan_at_monthly
from billing.payment_plans.enums import PlanStatus
from billing.payment_plans.models import PaymentPlan
from clinic.faq import load_faq
from clinic.settings import load_settings
from clinic.wording import text
from tests.e2e.clinic import LOW_INCOME_PHONE, MARIA, PLAN_PHONE, ROSA, SAM, SINGLE_PHONE
from tests.e2e.expected import balance, day, snapshot, us

pytestmark = pytest.mark.e2e
SETTINGS = load_settings()
FAQ = load_faq(SETTINGS.faq_dir)
ASKS_FOR_IDENTITY = (text("verify.ask_dob"), text("verify.ask_account_and_dob"))


def screening(household: int, annual_income: int):
    table = load_poverty_table(SETTINGS.poverty_table_path)
    return screen(household, annual_income, table, assistance_policy(SETTINGS))


def active_plans(assistant, patient_id: int) -> list[PaymentPlan]:
    with assistant.db() as s:
        return list(s.scalars(select(PaymentPlan).where(
            PaymentPlan.patient_id == patient_id, PaymentPlan.status == PlanStatus.ACTIVE)))


def assert_no_identity_asked(reply: str) -> None:
    for question in ASKS_FOR_IDENTITY:
        assert question not in reply


# General billing questions: no account needed, the clinic's own answer.

def test_a_credit_report_question_gets_the_collections_answer_not_a_refund(assistant):
    chat = assistant.sms(SINGLE_PHONE)
    reply = chat.say("if i cant pay right away will this bill end up on my credit report")
    assert FAQ.get("collections_credit").text in reply
    assert "refund" not in reply.lower().replace("refunds", "")
    assert_no_identity_asked(reply)


def test_an_insurance_term_is_explained_without_asking_who_the_patient_is(assistant):
    chat = assistant.sms(SINGLE_PHONE)
    reply = chat.say("whats the difference between a copay and coinsurance")
    assert FAQ.get("copay_coinsurance").text in reply
    assert_no_identity_asked(reply)


def test_a_general_answer_offers_the_patients_own_figure_after_verification(assistant):
    chat = assistant.sms(SINGLE_PHONE)
    reply = chat.say("what does deductible mean")
    assert FAQ.get("deductible").text in reply
    assert text("faq.offer.insurance_coverage") in reply
    assert text("verify.ask_dob") in chat.say("yes")
    answer = chat.say(us(MARIA[1]))
    with assistant.db() as s:
        cov = snapshot(s, "A1000").coverages[0]
    assert f"{fmt(cov.deductible_met)} of {fmt(cov.deductible)} met" in answer


# Explain my bill.

def test_not_understanding_why_so_much_is_owed_gets_the_explanation_not_the_balance(assistant):
    chat = assistant.sms(SINGLE_PHONE)
    chat.say("i dont understand why i owe so much")
    reply = chat.say(us(MARIA[1]))
    with assistant.db() as s:
        snap = snapshot(s, "A1000")
        b = balance(s, "A1000")
    assert text("explain.intro_due", due_now=fmt(b.due_now)) in reply
    open_visits = [e for e in explain(b, snap.items)
                   if e.visit.remaining or e.visit.pending_insurance]
    for explained in open_visits[:MAX_VISITS]:
        for sentence in explained.sentences:
            assert sentence in reply
    if len(open_visits) > MAX_VISITS:
        assert text("explain.more_visits", count=len(open_visits) - MAX_VISITS) in reply
    assert text("explain.offer_human") in reply
    assert "You owe" not in reply  # the explanation, not the balance again


# A plan at the amount the patient offers; details from the first message.

def test_a_monthly_amount_offered_gets_a_plan_at_that_amount(assistant, sam_without_a_plan):
    chat = assistant.sms(PLAN_PHONE)
    chat.say("could i do 200 a month on what i owe")
    reply = chat.say(us(SAM[1]))
    with assistant.db() as s:
        due_now = balance(s, "A1003").due_now
    plan = plan_at_monthly(due_now, 20000, add_months(assistant.today, 1), plan_policy(SETTINGS))
    assert plan.reason is None
    option = plan.option
    last = option.installments[-1]
    assert text("plan.ask_income") not in reply
    assert t.plan_confirm_at(20000, option.months, last.amount, option.installments[0].due_date,
                             last.due_date) in reply
    done = chat.say("yes")
    for inst in option.installments:
        assert f"{inst.seq}. {day(inst.due_date)}: {fmt(inst.amount)}" in done
    [created] = active_plans(assistant, sam_without_a_plan)
    assert created.total_cents == due_now == sum(i.amount for i in option.installments)
    with assistant.db() as s:
        installments = s.get(PaymentPlan, created.id).installments
        assert [i.amount_cents for i in installments] == [i.amount for i in option.installments]


def test_an_offer_below_the_least_installment_gets_the_nearest_allowed_and_why(
        assistant, sam_without_a_plan):
    chat = assistant.sms(PLAN_PHONE)
    chat.say("i can only pay like 10 dollars a month, can we set something up")
    reply = chat.say(us(SAM[1]))
    policy = plan_policy(SETTINGS)
    with assistant.db() as s:
        due_now = balance(s, "A1003").due_now
    plan = plan_at_monthly(due_now, 1000, add_months(assistant.today, 1), policy)
    assert plan.reason == "exceeds_max_term"  # $2,400 at the $25 minimum would take 96 months
    assert text("plan.offer_exceeds_max_term", offered=fmt(1000),
                allowed=fmt(plan.option.monthly), max_months=policy.max_months) in reply
    first, last = plan.option.installments[0], plan.option.installments[-1]
    assert t.plan_confirm_at(plan.option.monthly, plan.option.months, last.amount,
                             first.due_date, last.due_date) in reply
    assert "Shall I set it up" in reply
    chat.say("no")
    assert active_plans(assistant, sam_without_a_plan) == []


def test_income_and_household_from_the_first_message_are_never_asked_again(assistant):
    """Rosa states her income up front; no plan fits it, so she is asked her household size; she
    sends her account number and birth date instead, which is not a household size: she is
    asked again, and never for her income."""
    chat = assistant.sms(LOW_INCOME_PHONE)
    chat.say("i make 1200 a month and need a payment plan")
    reply = chat.say(us(ROSA[1]))
    assert text("plan.ask_income") not in reply
    assert text("plan.unaffordable_ask_household") in reply
    again = chat.say(f"{ROSA[0]} {us(ROSA[1])}")
    assert text("assistance.ask_household_again") in again
    assert text("plan.ask_income") not in again and text("plan.ask_income_again") not in again
    result = chat.say("3")
    expected = screening(3, 1_440_000)
    assert f"household of 3 with {fmt(1_440_000)} a year ({expected.percent_of_poverty}%" in result
    assert "likely qualify" in result and SETTINGS.assistance_link in result


# A new question in the middle of verification or of a form.

def test_a_new_question_while_waiting_for_the_birth_date_is_the_one_answered(
        assistant, sam_without_a_plan):
    chat = assistant.sms(PLAN_PHONE)
    assert text("verify.ask_dob") in chat.say("what is my balance")
    reply = chat.say("actually can i set up a monthly payment plan instead")
    assert text("verify.after_verification") in reply and text("verify.ask_dob") in reply
    assert "couldn't find a date" not in reply.lower()
    answer = chat.say(us(SAM[1]))
    assert text("plan.ask_income") in answer
    with assistant.db() as s:
        due_now = balance(s, "A1003").due_now
    assert f"You owe {fmt(due_now)}" not in answer


def test_a_general_question_during_verification_is_answered_and_verification_goes_on(assistant):
    chat = assistant.sms(SINGLE_PHONE)
    chat.say("how much do i owe")
    reply = chat.say("wait what is an explanation of benefits")
    assert FAQ.get("eob").text in reply and text("verify.ask_dob") in reply
    answer = chat.say(us(MARIA[1]))
    with assistant.db() as s:
        due_now = balance(s, "A1000").due_now
    assert f"You owe {fmt(due_now)} now" in answer


def test_a_new_question_during_the_plan_form_ends_it_cleanly_and_is_answered(
        assistant, sam_without_a_plan):
    chat = assistant.sms(PLAN_PHONE)
    chat.say("i want a payment plan")
    assert text("plan.ask_income") in chat.say(us(SAM[1]))
    reply = chat.say("hold on, how much is my total balance right now")
    with assistant.db() as s:
        b = balance(s, "A1003")
    assert f"You owe {fmt(b.due_now)} now" in reply
    assert text("plan.ask_income") not in reply
    chat.say("no")  # declines the itemisation: nothing of the plan is left to accept
    assert "set it up" not in chat.say("yes")
    assert active_plans(assistant, sam_without_a_plan) == []


def test_a_general_question_during_a_form_is_answered_and_the_form_resumes(
        assistant, sam_without_a_plan):
    chat = assistant.sms(PLAN_PHONE)
    chat.say("payment plan please")
    chat.say(us(SAM[1]))
    reply = chat.say("before that, what happens if i miss a plan payment")
    assert FAQ.get("missed_plan_payment").text in reply
    assert text("plan.ask_income_again") in reply
    assert text("faq.offer.payment_plan") not in reply  # no YES offered in the middle of a form
    options = chat.say("about 8k a month")
    assert "1)" in options and "a month for" in options


# Financial assistance from a story.

def test_a_hardship_story_goes_straight_to_screening_with_its_details(assistant):
    chat = assistant.sms(LOW_INCOME_PHONE)
    reply = chat.say("i lost my job in the spring and its me and my 2 kids now, we get by on "
                     "about 1,400 a month from unemployment. theres no way i can pay this bill")
    expected = screening(3, 1_680_000)
    assert f"household of 3 with {fmt(1_680_000)} a year ({expected.percent_of_poverty}%" in reply
    assert expected.tier == "free" and "likely qualify for free care" in reply
    assert "approved" not in reply.lower()
    assert SETTINGS.assistance_link in reply
    assert_no_identity_asked(reply)


def test_an_uninsured_patient_with_a_low_income_is_screened_not_misunderstood(assistant):
    chat = assistant.sms(LOW_INCOME_PHONE)
    reply = chat.say("no insurance and i only make around 19000 a year. what are my options "
                     "for this hospital bill")
    assert text("not_understood") not in reply
    assert text("assistance.ask_household") in reply
    assert text("assistance.ask_income") not in reply
    result = chat.say("just me")
    expected = screening(1, 1_900_000)
    assert f"household of 1 with {fmt(1_900_000)} a year ({expected.percent_of_poverty}%" in result
