"""The pure parts a scoring run computes per customer shard add up to the whole base's:
for random orders, cancellations and any split of the customers into disjoint groups, the
joined churn history, retention table, purchase summaries, revenue and value estimate equal
those of all the customers at once (`pipelines.deliver.shard_pass` relies on it)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.labels import LabelSpec
from features.sources import SourceTables
from models import history
from models.analytics.policy import AnalyticsPolicy
from models.analytics.retention import joined_retention_rates, retention_rates
from models.analytics.value import (
    estimate_from_inputs,
    joined_revenue,
    joined_value_inputs,
    revenue_last_year,
    value_inputs,
)
from tests import factories as f

END = dt.date(2025, 12, 31)
START = dt.date(2023, 1, 1)


@st.composite
def businesses(draw):
    """Orders of 12 to 40 customers whose first orders spread over three years (so the
    groups' first orders differ), some cancelled, and a split of them into 1 to 4 groups."""
    n = draw(st.integers(12, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    rows, master = [], []
    span = (END - START).days
    for c in range(n):
        first = int(rng.integers(0, span - 30))
        for _ in range(int(rng.integers(1, 12))):
            day = START + dt.timedelta(days=first + int(rng.integers(0, span - first)))
            status = "completed" if rng.random() > 0.1 else "cancelled"
            rows.append((f"C{c:03d}", str(day), round(float(rng.random() * 90 + 5), 2),
                         status))
        cancelled = (str(START + dt.timedelta(days=int(rng.integers(first, span))))
                     if rng.random() < 0.25 else None)
        master.append((f"C{c:03d}", "2022-12-01", cancelled))
    groups = rng.integers(0, draw(st.integers(1, 4)), n)
    return rows, master, groups


def _tables(rows, master, keep=None) -> SourceTables:
    chosen = [r for r in rows if keep is None or r[0] in keep]
    customers = [(c, signup, "retail", cancelled) for c, signup, cancelled in master
                 if keep is None or c in keep]
    return f.tables(purchases=f.purchases(chosen), customers=f.customers(customers))


def _parts(rows, master, groups) -> tuple[SourceTables, list[SourceTables]]:
    ids = [m[0] for m in master]
    split = [{i for i, g in zip(ids, groups, strict=True) if g == k}
             for k in sorted(set(groups))]
    return _tables(rows, master), [_tables(rows, master, keep) for keep in split]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(businesses(), st.sampled_from(["no_purchase", "cancellation"]))
def test_churn_history_and_retention_add_up_over_any_split(business, definition):
    rows, master, groups = business
    whole, parts = _parts(rows, master, groups)
    spec = LabelSpec(horizon_days=60, definition=definition)
    expected = history.churn_rate_over_time(whole.purchases, spec, END,
                                            customers=whole.customers)
    joined = history.joined_churn_rates([
        history.churn_counts(p.purchases, spec, END, customers=p.customers) for p in parts])
    pd.testing.assert_frame_equal(joined, expected, check_exact=True, check_dtype=False)
    policy = AnalyticsPolicy(label=spec)
    rates = retention_rates(whole, END, policy, dimensions=("all",))
    pd.testing.assert_frame_equal(
        joined_retention_rates([retention_rates(p, END, policy, dimensions=("all",))
                                for p in parts], policy), rates, check_dtype=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(businesses())
def test_the_value_estimate_and_last_years_revenue_add_up_over_any_split(business):
    rows, master, groups = business
    whole, parts = _parts(rows, master, groups)
    policy = AnalyticsPolicy()
    inputs = value_inputs(whole, END, policy)
    joined = joined_value_inputs([value_inputs(p, END, policy) for p in parts])
    pd.testing.assert_frame_equal(joined.summary_now, inputs.summary_now, check_dtype=False)
    pd.testing.assert_frame_equal(joined.summary_then, inputs.summary_then, check_dtype=False)
    pd.testing.assert_series_equal(joined.revenue_after.sort_index(),
                                   inputs.revenue_after.sort_index(), check_exact=True)
    estimate, expected = estimate_from_inputs(joined, END), estimate_from_inputs(inputs, END)
    assert (estimate.method, estimate.evidence) == (expected.method, expected.evidence)
    pd.testing.assert_series_equal(
        joined_revenue([revenue_last_year(p, END) for p in parts]),
        revenue_last_year(whole, END), check_exact=True)


def test_a_late_group_keeps_the_cutoffs_its_first_order_alone_would_hide():
    """The cutoffs shown depend on the whole base's first order: a group whose customers all
    started late still counts at the cutoffs the early group opens."""
    early = [("E1", "2023-01-05", 10), ("E1", "2025-11-20", 10)]
    late = [(f"L{k}", "2025-05-01", 10) for k in range(3)] + [("L0", "2025-06-15", 10)]
    spec = LabelSpec(horizon_days=60)
    whole = history.churn_rate_over_time(f.purchases(early + late), spec, END, n_cutoffs=6)
    joined = history.joined_churn_rates([history.churn_counts(f.purchases(rows), spec, END,
                                                              n_cutoffs=6)
                                         for rows in (early, late)])
    pd.testing.assert_frame_equal(joined, whole, check_exact=True, check_dtype=False)
    alone = history.churn_rate_over_time(f.purchases(late), spec, END, n_cutoffs=6)
    assert len(whole) > len(alone)  # the late group alone shows fewer cutoffs
    assert whole["cutoff"].min() < pd.Timestamp("2025-05-01") + pd.Timedelta(days=91)
