from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.effects import (
    MIN_CUSTOMERS_PER_ARM,
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
