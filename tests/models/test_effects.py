from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.effects import (
    MIN_CUSTOMERS_PER_ARM,
    action_save_rates,
    difference_interval,
    effect_row,
    effects_by,
    save_rate_in_force,
    wilson_interval,
)


def test_wilson_and_newcombe_match_the_published_examples():
    # Newcombe (1998), Statistics in Medicine 17: 81/263 and the differences 56/70 - 48/80,
    # 9/10 - 3/10 under method 10
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert difference_interval(56, 70, 48, 80) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)
    assert difference_interval(9, 10, 3, 10) == pytest.approx((0.6, 0.1705, 0.8090), abs=1e-4)
    assert np.isnan(difference_interval(0, 0, 1, 2)[0])


def _arms(holdout: tuple[int, int], contacted: tuple[int, int], revenue: float = 100.0,
          **extra) -> pd.DataFrame:
    """(customers, churners) per arm; every churner loses `revenue`."""
    rows = []
    for held, (n, churners) in ((True, holdout), (False, contacted)):
        rows += [{"holdout": held, "churned": int(i < churners), "annual_revenue": revenue,
                  "reached": not held, "cost": 0.0 if held else 2.0, **extra}
                 for i in range(n)]
    return pd.DataFrame(rows)


def test_effect_row_counts_rates_revenue_kept_and_cost():
    row = effect_row(_arms(holdout=(10, 5), contacted=(40, 10)))
    assert (row["holdout"], row["contacted"], row["reached"]) == (10, 40, 40)
    assert row["churn_rate_holdout"] == 0.5 and row["churn_rate_contacted"] == 0.25
    assert row["effect"] == pytest.approx(0.25)
    assert row["save_rate"] == pytest.approx(0.5)  # half the would-be churners kept
    # revenue lost per customer: 50 held out, 25 contacted; 25 x 40 contacted kept
    assert row["revenue_kept"] == pytest.approx(1000.0)
    assert row["cost"] == 80.0
    assert row["includes_zero"] and not row["enough"]  # 10 held out: too few to say


def test_an_interval_clear_of_zero_says_so_and_enough_needs_both_arms():
    n = MIN_CUSTOMERS_PER_ARM
    row = effect_row(_arms(holdout=(n, n // 2), contacted=(n, n // 10)))
    assert not row["includes_zero"] and row["enough"]
    assert row["effect_low"] > 0


def test_effects_by_stratum():
    frame = pd.concat([_arms((4, 2), (4, 1), tier="Critical"),
                       _arms((2, 0), (6, 0), tier="Watch")], ignore_index=True)
    table = effects_by(frame, ["tier"]).set_index("tier")
    assert table.loc["Critical", "effect"] == pytest.approx(0.25)
    assert table.loc["Watch", "effect"] == 0.0 and table.loc["Watch", "contacted"] == 6


def test_the_save_rate_is_measured_only_when_enough_customers_back_it():
    n = MIN_CUSTOMERS_PER_ARM
    big = effects_by(_arms((n, n // 2), (n, n // 4), planned_action="personal_call"),
                     ["planned_action"])
    small = effects_by(_arms((10, 5), (10, 2), planned_action="personal_call"),
                       ["planned_action"])
    measured = save_rate_in_force(big, 0.2, "personal_call")
    assert measured.measured and measured.value == pytest.approx(0.5)
    assert measured.customers == 2 * n and "measured" in measured.label
    assumed = save_rate_in_force(small, 0.2, "personal_call")
    assert not assumed.measured and assumed.value == 0.2 and "assumed" in assumed.label
    assert save_rate_in_force(big, 0.2, "reorder_reminder").value == 0.2


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.data())
def test_the_interval_holds_the_difference_and_stays_within_minus_one_and_one(n1, n2, data):
    x1, x2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    d, low, high = difference_interval(x1, n1, x2, n2)
    assert -1 <= low <= d <= high <= 1


def _pooled_table(strata: dict[str, tuple[tuple[int, int], tuple[int, int]]]) -> pd.DataFrame:
    """The pooled effect table (`tier` "*") of (holdout, contacted) (customers, churners)
    per planned action, and the all-actions row over them."""
    frame = pd.concat([_arms(h, c, planned_action=a) for a, (h, c) in strata.items()],
                      ignore_index=True)
    by_action = effects_by(frame, ["planned_action"])
    overall = effects_by(frame, []).assign(planned_action="*")
    return pd.concat([overall, by_action], ignore_index=True).assign(tier="*")


def test_each_action_with_enough_customers_has_its_own_rate_and_the_others_the_assumption():
    table = _pooled_table({
        # 100 held out, 40 churn (40 %); 100 contacted, 30 churn (30 %): effect 10 points,
        # save rate 0.10 / 0.40 = 0.25
        "personal_call": ((100, 40), (100, 30)),
        # 50 held out: too few, so the assumption stands (its own 0.30 / 0.40 = 0.75 unused)
        "light_nurture": ((50, 20), (60, 6)),
    })
    rates = action_save_rates(table, 0.2, ["light_nurture", "personal_call", "winback_campaign"])
    assert list(rates) == ["*", "light_nurture", "personal_call", "winback_campaign"]
    call = rates["personal_call"]
    assert call.measured and call.value == pytest.approx(0.25) and call.customers == 200
    # Newcombe's interval of 40/100 - 30/100 is [-0.0319, 0.2272]; over the 0.40 holdout churn
    # rate: [-0.080, 0.568], the low end clipped to 0
    assert (call.low, call.high) == pytest.approx((0.0, 0.5679), abs=1e-3)
    assert call.label == "measured on 200 randomised customers (95% interval 0% to 57%)"
    for action in ("light_nurture", "winback_campaign"):  # too few / never randomised
        rate = rates[action]
        assert (rate.value, rate.measured, rate.customers) == (0.2, False, 0)
        assert rate.label == f"assumed (fewer than {MIN_CUSTOMERS_PER_ARM} customers in an arm)"
    # pooled: 150 held out, 60 churn (40 %); 160 contacted, 36 churn (22.5 %): 0.175 / 0.4
    assert rates["*"].measured and rates["*"].value == pytest.approx(0.4375)


def test_an_action_randomised_but_not_in_the_playbook_is_listed_after_it():
    table = _pooled_table({"old_offer": ((100, 50), (100, 25))})
    rates = action_save_rates(table, 0.2, ["personal_call"])
    assert list(rates) == ["*", "personal_call", "old_offer"]
    assert rates["old_offer"].value == pytest.approx(0.5) and not rates["personal_call"].measured
    assert action_save_rates(None, 0.2, ["personal_call"])["personal_call"].value == 0.2


def test_a_table_without_planned_actions_lends_its_rate_to_no_action():
    n = MIN_CUSTOMERS_PER_ARM
    pooled = effects_by(_arms((n, n // 2), (n, n // 4)), [])
    rates = action_save_rates(pooled, 0.2, ["personal_call"])
    assert rates["*"].measured and rates["*"].value == pytest.approx(0.5)
    assert not rates["personal_call"].measured and rates["personal_call"].value == 0.2
