"""Patient share under coverage terms, and cost estimates from the chargemaster price list."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.core.chargemaster import ChargemasterError, estimate, find_service, load_chargemaster
from billing.core.insurance import patient_responsibility
from billing.core.ledger import CoverageTerms
from tests.ledger_builders import coverage

DAY = date(2025, 3, 3)
CHARGEMASTER = Path(__file__).resolve().parents[3] / "data" / "chargemaster.csv"


def parts(r):
    return (r.deductible_part, r.copay_part, r.coinsurance_part, r.patient_total,
            r.insurance_total, r.capped_by_oop)


def test_without_coverage_the_patient_pays_everything():
    assert parts(patient_responsibility(20000, None, DAY)) == (0, 0, 0, 20000, 0, False)


def test_coverage_not_active_on_the_service_date_counts_as_none():
    ended = coverage(terminated=date(2025, 2, 28))
    assert patient_responsibility(20000, ended, DAY).patient_total == 20000
    future = coverage(effective=date(2025, 4, 1))
    assert patient_responsibility(20000, future, DAY).patient_total == 20000


def test_deductible_not_met_takes_the_whole_allowed_amount():
    r = patient_responsibility(17000, coverage(deductible=150000, met=0), DAY)
    assert parts(r) == (17000, 0, 0, 17000, 0, False)


def test_rest_of_deductible_then_coinsurance_on_the_remainder():
    r = patient_responsibility(17000, coverage(deductible=150000, met=140000, coins="20"), DAY)
    # 100.00 deductible left; 20% of the other 70.00 = 14.00
    assert parts(r) == (10000, 0, 1400, 11400, 5600, False)


def test_copay_replaces_coinsurance_once_deductible_is_met():
    r = patient_responsibility(17000, coverage(met=150000, copay=3000, coins="20"), DAY)
    assert parts(r) == (0, 3000, 0, 3000, 14000, False)


def test_copay_is_capped_at_what_the_deductible_leaves():
    r = patient_responsibility(17000, coverage(deductible=150000, met=134000, copay=3000), DAY)
    assert parts(r) == (16000, 1000, 0, 17000, 0, False)


def test_out_of_pocket_maximum_caps_coinsurance_first():
    c = coverage(met=150000, coins="20", oop_max=600000, oop_met=599000)
    assert parts(patient_responsibility(17000, c, DAY)) == (0, 0, 1000, 1000, 16000, True)


def test_out_of_pocket_cap_can_cut_into_the_deductible():
    c = coverage(deductible=150000, met=140000, coins="20", oop_max=600000, oop_met=595000)
    assert parts(patient_responsibility(17000, c, DAY)) == (5000, 0, 0, 5000, 12000, True)


def test_out_of_pocket_maximum_reached_means_patient_pays_nothing():
    c = coverage(met=150000, oop_max=600000, oop_met=600000)
    assert patient_responsibility(17000, c, DAY).patient_total == 0


def test_coinsurance_rounds_half_up_to_the_cent():
    c = coverage(met=150000, coins="15")
    assert patient_responsibility(1001, c, DAY).coinsurance_part == 150  # 150.15
    assert patient_responsibility(1010, c, DAY).coinsurance_part == 152  # 151.5


def test_negative_allowed_amount_is_refused():
    with pytest.raises(ValueError):
        patient_responsibility(-1, coverage(), DAY)


cents = st.integers(min_value=0, max_value=5_000_000)
terms = st.builds(
    CoverageTerms,
    payer=st.just("P"), member_id=st.just("M"), plan_name=st.just("Plan"),
    deductible=cents, deductible_met=cents,
    coinsurance_percent=st.decimals(min_value=0, max_value=100, places=2),
    copay=st.one_of(st.just(0), st.integers(1, 20000)),
    out_of_pocket_max=cents, out_of_pocket_met=cents,
    effective_date=st.just(date(2025, 1, 1)),
    termination_date=st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2026, 1, 1))),
)


@settings(max_examples=300, deadline=None)
@given(allowed=cents, c=st.one_of(st.none(), terms), day=st.dates(date(2024, 6, 1),
                                                                   date(2026, 6, 1)))
def test_patient_share_stays_within_allowed_and_out_of_pocket_limits(allowed, c, day):
    r = patient_responsibility(allowed, c, day)
    assert 0 <= r.patient_total <= allowed
    assert r.insurance_total == allowed - r.patient_total
    assert min(r.deductible_part, r.copay_part, r.coinsurance_part) >= 0
    if c is not None and c.active_on(day):
        assert r.patient_total <= max(0, c.out_of_pocket_max - c.out_of_pocket_met)
        assert r.deductible_part <= max(0, c.deductible - c.deductible_met)
        assert r.deductible_part + r.copay_part + r.coinsurance_part == r.patient_total
        assert not (r.copay_part and r.coinsurance_part)
    else:
        assert r.patient_total == allowed


# --- chargemaster -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def prices():
    return load_chargemaster(CHARGEMASTER)


def test_shipped_chargemaster_loads_with_positive_prices(prices):
    assert len(prices) >= 35
    assert all(p.price > 0 and p.description for p in prices.values())
    assert prices["99213"].price == 17500


@pytest.mark.parametrize("query, code", [
    ("99214", "99214"),
    ("office visit", "99213"),
    ("How much is an MRI of my knee?", "73721"),
    ("chest x-ray", "71046"),
    ("CHEST XRAY", "71046"),
    ("flu shot", "90686"),
    ("ekg", "93000"),
    ("colonoscopy", "45378"),
])
def test_find_service_by_code_or_plain_words(prices, query, code):
    assert find_service(prices, query).cpt_code == code


def test_find_service_answers_broad_words_with_one_stable_entry(prices):
    mri = find_service(prices, "mri")
    assert mri is not None and "MRI" in mri.description
    assert find_service(prices, "MRI") == mri
    assert "X-ray" in find_service(prices, "x-ray").description


@pytest.mark.parametrize("query", ["hello", "", "my knee hurts", "how much"])
def test_find_service_returns_none_when_nothing_fits(prices, query):
    assert find_service(prices, query) is None


def test_estimate_applies_coverage_to_the_list_price(prices):
    e = estimate(prices, "office visit", coverage(met=150000, copay=2500), DAY)
    assert e.entry.cpt_code == "99213"
    assert (e.responsibility.patient_total, e.responsibility.insurance_total) == (2500, 15000)
    assert estimate(prices, "office visit", None, DAY).responsibility.patient_total == 17500
    assert estimate(prices, "teleportation", None, DAY) is None


def _write(tmp_path, text):
    path = tmp_path / "cm.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("body, line, reason", [
    ("cpt_code,description,price\n99213,Office visit,abc\n", 2, "not an amount"),
    ("cpt_code,description,price\n99213,Office visit,1.00\n99213,Again,2.00\n", 3, "twice"),
    ("cpt_code,description,price\n9921,Office visit,1.00\n", 2, "not a CPT code"),
    ("cpt_code,description,price\n99213,Office visit\n", 2, "3 columns"),
    ("cpt_code,description,price\n99213,,1.00\n", 2, "description"),
    ("cpt_code,description,price\n99213,Office visit,0\n", 2, "more than zero"),
    ("code,name,price\n99213,Office visit,1.00\n", 1, "header"),
])
def test_bad_chargemaster_row_names_file_line_and_reason(tmp_path, body, line, reason):
    path = _write(tmp_path, body)
    with pytest.raises(ChargemasterError) as exc:
        load_chargemaster(path)
    assert exc.value.line == line and reason in exc.value.reason
    assert str(exc.value).startswith(f"{path}:{line}: ")


def test_coinsurance_percent_may_have_decimals():
    c = coverage(met=150000, coins="12.5")
    assert patient_responsibility(10000, c, DAY).coinsurance_part == 1250
    assert isinstance(c.coinsurance_percent, Decimal)
