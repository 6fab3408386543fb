"""The representative's checks against the clinic's price list and contracts: each found on a
hand-built ledger with its lines and amount, none on clean ones (also generated ones)."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.core.chargemaster import PriceEntry
from billing.core.coding_checks import KINDS, clinic_checks
from billing.core.discrepancies import find_discrepancies
from billing.core.insurance import patient_responsibility
from billing.core.ledger import ClaimStatus, CoverageTerms
from billing.core.price_lists import ClinicPrices, ContractRate, FeeSchedule
from tests.ledger_builders import charge, coverage, ins_adj, ins_paid

DAY = date(2025, 3, 3)
PRICES = {
    "99213": PriceEntry("99213", "Office visit", 18000),
    "85025": PriceEntry("85025", "Complete blood count", 4000),
}
CONTRACT = FeeSchedule((
    ContractRate("Acme Health", "99213", 12000, date(2025, 1, 1), date(2025, 6, 30)),
    ContractRate("Acme Health", "99213", 12500, date(2025, 7, 1)),
    ContractRate("Acme Health", "85025", 3000, date(2025, 1, 1)),
))
CLINIC = ClinicPrices(PRICES, CONTRACT)
PAID_UP = coverage(deductible=0, coins="20", oop_max=600000)  # Acme Health, 20% coinsurance


def found(items, coverages=(PAID_UP,), clinic=CLINIC):
    return [(f.kind, f.entry_ids, f.amount) for f in clinic_checks(items, list(coverages), clinic)]


def clean_visit(claim="C1", day=DAY):
    """99213 + 85025 at list price, allowed as contracted (150.00), insurer pays 80% = 120.00."""
    return [
        charge(18000, claim=claim, day=day, cpt="99213", entry_id=f"{claim}-a"),
        charge(4000, claim=claim, day=day, cpt="85025", desc="CBC", entry_id=f"{claim}-b"),
        ins_adj(22000 - 15000, claim, entry_id=f"{claim}-adj"),
        ins_paid(12000, claim, entry_id=f"{claim}-pay"),
    ]


def test_a_clean_visit_has_no_finding():
    assert found(clean_visit()) == []


def test_a_code_not_on_the_chargemaster_is_flagged_with_its_whole_amount():
    items = [charge(9900, claim="C1", cpt="99999", status=ClaimStatus.SELF_PAY, entry_id="x1"),
             *clean_visit("C2")]
    assert found(items) == [("code_not_on_chargemaster", ("x1",), 9900)]
    (f,) = clinic_checks(items, [PAID_UP], CLINIC)
    assert not f.for_patient and "99999" in f.summary and "$99.00" in f.summary


def test_a_modifier_does_not_hide_a_known_code_and_uncoded_lines_are_not_judged():
    items = [charge(18000, claim="C1", cpt="99213-25"), charge(500, claim="C2", cpt=None)]
    assert found(items, coverages=()) == []


def test_a_typing_error_in_the_amount_is_flagged_with_the_difference():
    # 1,800.00 typed for 180.00: 1,620.00 at stake; 35.00 for 40.00: 5.00 the other way.
    items = [charge(180000, claim="S1", status=ClaimStatus.SELF_PAY, entry_id="t1"),
             charge(3500, claim="S1", status=ClaimStatus.SELF_PAY, cpt="85025", entry_id="t2")]
    assert found(items, coverages=()) == [
        ("price_differs", ("t1",), 162000), ("price_differs", ("t2",), 500)]
    f = clinic_checks(items, [], CLINIC)[0]
    assert "$1,800.00" in f.summary and "$180.00" in f.summary and "$1,620.00" in f.summary


def test_no_chargemaster_imported_means_no_code_or_price_check():
    items = [charge(180000, claim="S1", status=ClaimStatus.SELF_PAY),
             charge(100, claim="S2", status=ClaimStatus.SELF_PAY, cpt="99999")]
    assert found(items, clinic=ClinicPrices({}, CONTRACT)) == []


def test_an_underpaid_claim_names_its_charges_and_write_off_and_the_shortfall():
    # Allowed 220.00 - 75.00 = 145.00; contracted 120.00 + 30.00 = 150.00 -> 5.00 short.
    items = clean_visit()
    items[2] = ins_adj(7500, "C1", entry_id="C1-adj")
    items[3] = ins_paid(11600, "C1", entry_id="C1-pay")  # 80% of 145.00: paid in full
    assert found(items) == [("payer_underpayment", ("C1-a", "C1-b", "C1-adj"), 500)]
    f = clinic_checks(items, [PAID_UP], CLINIC)[0]
    assert "Acme Health" in f.summary and "$145.00" in f.summary and "$150.00" in f.summary


def test_the_contract_rate_is_the_one_in_force_on_the_service_date():
    # July: 99213 is 125.00 -> 155.00 contracted against 150.00 allowed (insurer paid 80%).
    july = clean_visit(day=date(2025, 7, 2))
    assert found(july) == [("payer_underpayment", ("C1-a", "C1-b", "C1-adj"), 500)]


def test_a_claim_with_a_line_the_contract_does_not_price_is_not_judged():
    items = [*clean_visit(), charge(2500, claim="C1", cpt="36415", desc="Blood draw")]
    assert "payer_underpayment" not in [k for k, *_ in found(items, clinic=ClinicPrices(
        {}, CONTRACT))]


def test_pending_claims_other_payers_and_uninsured_visits_are_not_judged_for_underpayment():
    pending = [charge(18000, claim="P", status=ClaimStatus.PENDING), ins_adj(10000, "P")]
    other_payer = CoverageTerms(**{**PAID_UP.__dict__, "payer": "Valley HMO"})
    assert found(pending) == []
    assert found(clean_visit(), coverages=[other_payer]) == []
    assert found(clean_visit(), coverages=[]) == []


def test_the_payer_is_matched_in_any_case_and_spacing():
    contract = FeeSchedule(tuple(
        ContractRate("  ACME   health ", r.cpt_code, r.allowed + 100, r.effective_date,
                     r.termination_date) for r in CONTRACT.rates))
    assert found(clean_visit(), clinic=ClinicPrices(PRICES, contract)) == [
        ("payer_underpayment", ("C1-a", "C1-b", "C1-adj"), 200)]


def test_insurance_paid_short_of_allowed_less_the_patient_share():
    # Allowed 150.00; no deductible, 20% coinsurance -> the insurer owed 120.00, paid 100.00.
    items = clean_visit()
    items[3] = ins_paid(10000, "C1", entry_id="C1-pay")
    assert found(items) == [
        ("insurance_paid_short", ("C1-a", "C1-b", "C1-adj", "C1-pay"), 2000)]
    f = clinic_checks(items, [PAID_UP], CLINIC)[0]
    assert "$100.00" in f.summary and "$120.00" in f.summary and "$20.00" in f.summary


def test_paid_short_allows_a_cent_of_rounding_per_charge_line():
    items = clean_visit()
    items[3] = ins_paid(11998, "C1", entry_id="C1-pay")  # 2 cents short on 2 lines
    assert found(items) == []
    items[3] = ins_paid(11997, "C1", entry_id="C1-pay")
    assert found(items) == [("insurance_paid_short", ("C1-a", "C1-b", "C1-adj", "C1-pay"), 3)]


def test_paid_short_takes_the_largest_share_the_deductible_could_have_left():
    # Deductible 500.00, met 500.00 today. The 150.00 visit's own 50.00 share (150.00 - 100.00
    # paid) may be deductible: then 50.00 + 20% of 100.00 = 70.00 was the patient's, so the
    # insurer owed at least 80.00 and 100.00 is not short.
    items = clean_visit()
    items[3] = ins_paid(10000, "C1", entry_id="C1-pay")
    cov = coverage(deductible=50000, met=50000, coins="20")
    assert found(items, coverages=[cov]) == []
    # Paid 60.00: share 90.00 -> deductible 90.00 may be unmet -> 90.00 + 20% of 60.00 = 102.00;
    # the insurer owed at least 48.00 and paid 60.00: still not certain. Paid 0.00 is:
    # share 150.00 -> the whole 150.00 may be deductible -> nothing owed. The terms never
    # make the insurer owe when the deductible could cover all of it.
    items[3] = ins_paid(6000, "C1", entry_id="C1-pay")
    assert found(items, coverages=[cov]) == []


def test_a_copay_plan_owes_allowed_less_the_copay():
    # Copay 30.00: insurer owed 150.00 - 30.00 = 120.00, paid 90.00 -> 30.00 short.
    items = clean_visit()
    items[3] = ins_paid(9000, "C1", entry_id="C1-pay")
    cov = coverage(deductible=0, copay=3000, coins="0")
    assert found(items, coverages=[cov]) == [
        ("insurance_paid_short", ("C1-a", "C1-b", "C1-adj", "C1-pay"), 3000)]


def test_the_clinic_checks_are_for_representatives_and_not_in_the_patient_checks():
    items = [charge(180000, claim="S1", status=ClaimStatus.SELF_PAY, entry_id="t1")]
    assert find_discrepancies(items, [], []) == []
    (f,) = clinic_checks(items, [], CLINIC)
    assert (f.kind, f.amount, f.for_patient) == ("price_differs", 162000, False)


def test_summaries_are_plain_short_and_nameless():
    items = [charge(9900, claim="X", cpt="99999", day=date(2025, 2, 1)),
             charge(180000, claim="S", status=ClaimStatus.SELF_PAY, day=date(2025, 2, 2)),
             *clean_visit("U"), *clean_visit("Q", day=date(2025, 5, 5))]
    items[5] = ins_adj(7500, "U", entry_id="U-adj")
    items[-1] = ins_paid(5000, "Q", entry_id="Q-pay")
    findings = clinic_checks(items, [PAID_UP], CLINIC)
    assert sorted({f.kind for f in findings}) == sorted(KINDS)
    for f in findings:
        assert f.amount > 0 and not f.for_patient
        assert len(f.summary) <= 160, f.summary
        assert not re.search(r"[*_#`\[\]]", f.summary)


# ---------------------------------------------------------------- generated clean ledgers

terms_st = st.builds(
    lambda deductible, met_part, copay, coins, oop_max: (deductible, met_part, copay, coins,
                                                         oop_max),
    st.integers(0, 300000), st.integers(0, 100), st.sampled_from([0, 0, 2000, 3500]),
    st.sampled_from(["0", "10", "20", "33.33", "50"]), st.integers(50000, 800000),
)
visit_st = st.lists(
    st.tuples(st.sampled_from(sorted(PRICES)), st.integers(100, 30000)),  # code, contracted
    min_size=1, max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(terms_st, st.lists(visit_st, min_size=1, max_size=5), st.integers(1, 40))
def test_no_finding_on_generated_clean_ledgers(terms, visits, gap):
    """Charges at list price, allowed as contracted, the insurer paying allowed less the share
    the terms give as the year's deductible and out-of-pocket figures build up: no finding."""
    deductible, met_part, copay, coins, oop_max = terms
    start = date(2025, 1, 1)
    ded_met = deductible * met_part // 100
    oop_met = min(ded_met, oop_max)
    cov = CoverageTerms("Acme Health", "M1", "Plan", deductible, ded_met, Decimal(coins), copay,
                        oop_max, oop_met, start)
    rates, items = [], []
    for n, lines in enumerate(visits):
        day = start + timedelta(days=n * gap)
        claim = f"C{n}"
        contract = {code: min(amount, PRICES[code].price) for code, amount in lines}
        rates += [ContractRate("Acme Health", code, a, day, day) for code, a in contract.items()]
        items += [charge(PRICES[code].price, claim=claim, day=day, cpt=code,
                         entry_id=f"{claim}-{k}") for k, (code, _) in enumerate(lines)]
        allowed = sum(contract[code] for code, _ in lines)
        share = patient_responsibility(allowed, cov, day)
        cov = CoverageTerms(
            cov.payer, cov.member_id, cov.plan_name, deductible,
            cov.deductible_met + share.deductible_part, cov.coinsurance_percent, copay, oop_max,
            cov.out_of_pocket_met + share.patient_total, start)
        charged = sum(PRICES[code].price for code, _ in lines)
        if charged > allowed:
            items.append(ins_adj(charged - allowed, claim, entry_id=f"{claim}-adj"))
        if share.insurance_total:
            items.append(ins_paid(share.insurance_total, claim, entry_id=f"{claim}-pay"))
    assert clinic_checks(items, [cov], ClinicPrices(PRICES, FeeSchedule(tuple(rates)))) == []
