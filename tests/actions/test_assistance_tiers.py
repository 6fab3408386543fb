"""Financial assistance tiers come from the clinic's settings, as nonprofit hospitals publish
them: free care up to one percentage of the poverty guideline, a discount band above it."""
from __future__ import annotations

import pytest

from actions.plans import assistance_policy
from billing.core.assistance import load_poverty_table, screen
from clinic.settings import Settings, SettingsError, load_settings


def test_the_tiers_follow_the_settings():
    settings = Settings(assistance_free_care_max_fpl_percent=250,
                        assistance_discount_max_fpl_percent=300,
                        assistance_discount_percent=75)
    table = load_poverty_table(settings.poverty_table_path)
    line = table.poverty_line(3)
    policy = assistance_policy(settings)
    assert screen(3, line * 250 // 100, table, policy).tier == "free"
    assert screen(3, line * 260 // 100, table, policy).discount_percent == 75
    assert screen(3, line * 301 // 100 + 100, table, policy).tier == "none"
    default = assistance_policy(Settings())
    assert screen(3, line * 260 // 100, table, default).tier == "discount"


def test_tiers_out_of_order_are_refused():
    with pytest.raises(SettingsError, match="ASSISTANCE_FREE_CARE_MAX_FPL_PERCENT"):
        load_settings({"ASSISTANCE_FREE_CARE_MAX_FPL_PERCENT": "500",
                       "ASSISTANCE_DISCOUNT_MAX_FPL_PERCENT": "400"})
