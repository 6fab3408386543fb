"""Payment plan offers: affordable terms and installment schedules that add up exactly."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.core.plans import (
    PlanPolicy,
    add_months,
    plan_at_monthly,
    plan_options,
    schedule,
    schedule_at,
)

POLICY = PlanPolicy()
FIRST = date(2025, 7, 15)


def test_schedule_spreads_odd_cents_over_the_first_installments():
    plan = schedule(10001, 3, FIRST)
    assert [i.amount for i in plan] == [3334, 3334, 3333]
    assert [i.seq for i in plan] == [1, 2, 3]
    assert [i.due_date for i in plan] == [date(2025, 7, 15), date(2025, 8, 15),
                                          date(2025, 9, 15)]


def test_due_dates_keep_the_day_of_month_clamped_to_month_end():
    plan = schedule(400, 4, date(2025, 1, 31))
    assert [i.due_date for i in plan] == [date(2025, 1, 31), date(2025, 2, 28),
                                          date(2025, 3, 31), date(2025, 4, 30)]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)


def test_schedule_refuses_zero_months_and_negative_balance():
    with pytest.raises(ValueError):
        schedule(100, 0, FIRST)
    with pytest.raises(ValueError):
        schedule(-1, 3, FIRST)


def test_offer_is_the_shortest_affordable_terms_fewest_months_first():
    # 5% of $3,000/month = $150; $1,200 fits in 12, 18 or 24 months, not 3 or 6.
    offer = plan_options(120000, 300000, FIRST, POLICY)
    assert offer.affordable_monthly == 15000 and offer.reason is None
    assert [(o.months, o.monthly) for o in offer.options] == [(12, 10000), (18, 6667),
                                                              (24, 5000)]
    assert offer.options[0].end_date == date(2026, 6, 15)


def test_low_income_still_gets_the_minimum_monthly_amount():
    offer = plan_options(30000, 20000, FIRST, POLICY)  # 5% of $200 = $10 < $25 minimum
    assert offer.affordable_monthly == 2500
    assert [o.months for o in offer.options] == [12]  # 3/6 too much; 18/24 under $25 each


def test_balance_too_large_for_the_longest_term_has_no_options():
    offer = plan_options(1_000_000, 100000, FIRST, POLICY)  # $50/month * 24 < $10,000
    assert offer.options == () and offer.reason == "exceeds_max_term"


def test_nothing_owed_has_no_options():
    assert plan_options(0, 500000, FIRST, POLICY).reason == "no_balance"
    assert plan_options(-500, 500000, FIRST, POLICY).reason == "no_balance"


def test_balance_too_small_to_split_has_no_options():
    offer = plan_options(6000, 500000, FIRST, POLICY)  # 3 x $20 is under the $25 minimum
    assert offer.options == () and offer.reason == "below_minimum"


def test_policy_term_choices_and_max_months_are_respected():
    policy = PlanPolicy(max_income_percent=Decimal(10), max_months=12,
                        term_choices=(2, 4, 12, 36))
    offer = plan_options(48000, 100000, FIRST, policy)  # affordable $100
    assert [o.months for o in offer.options] == [12]


policies = st.builds(
    PlanPolicy,
    max_income_percent=st.decimals(min_value=1, max_value=20, places=1),
    min_monthly=st.integers(500, 10000),
    max_months=st.integers(1, 60),
    term_choices=st.lists(st.integers(1, 60), min_size=1, max_size=6, unique=True).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(balance=st.integers(1, 5_000_000), income=st.integers(0, 2_000_000), policy=policies,
       first=st.dates(date(2024, 1, 1), date(2030, 12, 31)))
def test_every_offered_plan_sums_exactly_and_respects_the_policy(balance, income, policy,
                                                                 first):
    offer = plan_options(balance, income, first, policy)
    assert (offer.reason is None) == bool(offer.options)
    assert len(offer.options) <= 3
    assert [o.months for o in offer.options] == sorted({o.months for o in offer.options})
    for option in offer.options:
        amounts = [i.amount for i in option.installments]
        assert sum(amounts) == balance
        assert len(amounts) == option.months <= policy.max_months
        assert option.months in policy.term_choices
        assert max(amounts) == option.monthly <= offer.affordable_monthly
        assert min(amounts) >= policy.min_monthly
        assert max(amounts) - min(amounts) <= 1
        dates = [i.due_date for i in option.installments]
        assert dates[0] == first and dates == sorted(set(dates))
        assert option.end_date == dates[-1]


@settings(max_examples=200, deadline=None)
@given(balance=st.integers(0, 10_000_000), months=st.integers(1, 60))
def test_schedule_always_sums_to_the_balance(balance, months):
    plan = schedule(balance, months, FIRST)
    assert sum(i.amount for i in plan) == balance and len(plan) == months


OFFER_START = date(2027, 1, 15)


def test_a_plan_at_the_offered_amount_pays_it_monthly_and_the_rest_last():
    plan = plan_at_monthly(21250, 5000, OFFER_START, PlanPolicy())
    assert plan.reason is None
    assert [i.amount for i in plan.option.installments] == [5000, 5000, 5000, 5000, 1250]
    assert plan.option.end_date == date(2027, 5, 15)


def test_an_offer_below_the_least_installment_is_raised_to_it():
    plan = plan_at_monthly(21250, 1000, OFFER_START, PlanPolicy(min_monthly=2500))
    assert plan.reason == "below_minimum" and plan.option.monthly == 2500
    assert plan.option.months == 9  # 8 x 25.00 + 12.50


def test_an_offer_that_would_run_past_the_longest_term_is_raised_to_end_within_it():
    plan = plan_at_monthly(1_000_000, 5000, OFFER_START, PlanPolicy(max_months=24))
    assert plan.reason == "exceeds_max_term"
    assert (plan.option.monthly, plan.option.months) == (41667, 24)


def test_an_offer_of_the_whole_balance_needs_no_plan():
    assert plan_at_monthly(4000, 5000, OFFER_START, PlanPolicy()).reason == "covers_balance"
    assert plan_at_monthly(0, 5000, OFFER_START, PlanPolicy()).reason == "no_balance"


@settings(max_examples=300, deadline=None)
@given(balance=st.integers(1, 5_000_000), monthly=st.integers(1, 500_000),
       min_monthly=st.integers(100, 10_000), max_months=st.integers(1, 60))
def test_plans_at_an_amount_sum_exactly_and_keep_the_policy(balance, monthly, min_monthly,
                                                            max_months):
    policy = PlanPolicy(min_monthly=min_monthly, max_months=max_months)
    plan = plan_at_monthly(balance, monthly, OFFER_START, policy)
    if plan.option is None:
        assert plan.reason == "covers_balance"
        return
    amounts = [i.amount for i in plan.option.installments]
    assert sum(amounts) == balance
    assert plan.option.months <= max_months
    assert all(a == plan.option.monthly for a in amounts[:-1]) and 0 < amounts[-1] <= amounts[0]
    assert plan.option.monthly >= min(monthly, balance) or plan.reason is not None
    if plan.reason is None:
        assert plan.option.monthly == monthly


def test_schedule_at_refuses_nothing_to_pay():
    with pytest.raises(ValueError):
        schedule_at(0, 100, OFFER_START)
    with pytest.raises(ValueError):
        schedule_at(100, 0, OFFER_START)
