"""The training budget's arithmetic and its customer sample (features.budget)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from features import budget
from features.budget import (
    TrainingSample,
    customer_ids,
    model_input_bytes,
    plan_sample,
    sample_share,
    sampled_tables,
)
from features.catalog import CATEGORICAL_FEATURES
from features.sources import SourceTables


def test_model_input_bytes_counts_numbers_and_texts():
    assert {"segment", "region"} <= set(CATEGORICAL_FEATURES)
    features = ["recency_days", "segment", "region", "orders_365d"]
    # per row: 3 key numbers + 2 numeric features = 5 x 8 bytes; id + 2 texts = 3 x 24 bytes
    assert model_input_bytes(10, 3, features) == 10 * 3 * (5 * 8 + 3 * 24)
    assert model_input_bytes(0, 8, features) == 0


@pytest.mark.parametrize(("peak", "budget_bytes", "share"), [
    (1000, 2000, 1.0), (1000, 1000, 1.0), (1000, 250, 0.25), (3000, 1000, 0.333),
    (10**9, 1, 0.001),  # never an empty sample: at least one step
])
def test_sample_share_is_the_largest_step_that_fits(peak, budget_bytes, share):
    assert sample_share(peak, budget_bytes) == pytest.approx(share)


@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_a_share_below_one_fits_the_budget(peak, budget_bytes):
    share = sample_share(peak, budget_bytes)
    assert 0 < share <= 1
    if share < 1 and share > budget.SHARE_STEP:
        assert peak * share <= budget_bytes


def _tables(customers: int) -> SourceTables:
    ids = [f"C{i}" for i in range(customers)]
    purchases = pd.DataFrame({"customer_id": [c for c in ids for _ in range(3)],
                              "order_id": [f"O{i}" for i in range(3 * customers)]})
    complaints = pd.DataFrame({"customer_id": ids[::2]})
    master = pd.DataFrame({"customer_id": [*ids, "never-bought"]})
    return SourceTables(purchases, complaints=complaints, customers=master)


def test_plan_sample_fits_the_budget_in_megabytes():
    ids = pd.Series([f"C{i}" for i in range(20_000)])
    features = ["recency_days", "orders_365d"]
    # per row 5 numbers x 8 + 1 text x 24 = 64 bytes; 20k x 8 cutoffs x 64 x 4 (peak) = 40.96 MB
    peak_mb = 20_000 * 8 * 64 * budget.PEAK_PER_INPUT_BYTE / 2**20
    everyone = plan_sample(ids, 8, features, budget_mb=peak_mb + 1)
    assert not everyone.sampled and everyone.sampled_customers == 20_000
    assert everyone.as_params(123)["train_sample"] == "all_labelled_snapshots"
    quarter = plan_sample(ids, 8, features, budget_mb=peak_mb / 4)
    assert quarter.share == pytest.approx(0.25)
    assert abs(quarter.sampled_customers - 5_000) < 300  # a hash draw: close to the share
    params = quarter.as_params(40_000)
    assert params["train_sample"] == "customer_sample"
    assert params["train_sample_rows"] == 40_000
    assert params["train_estimated_peak_mb"] == pytest.approx(peak_mb, abs=0.1)
    assert "25.0% of customers" in quarter.note(40_000)


def test_sampled_tables_keep_whole_customers_in_every_table():
    tables = _tables(2_000)
    sample = sampled_tables(tables, 0.3)
    bought = set(sample.purchases["customer_id"])
    assert 400 < len(bought) < 800
    assert sample.purchases.groupby("customer_id").size().eq(3).all()  # every row of a customer
    assert set(sample.complaints["customer_id"]) <= bought
    assert set(sample.customers["customer_id"]) - {"never-bought"} == bought
    assert sampled_tables(tables, 1.0) is tables


def test_the_sample_is_nested_and_stable():
    tables = _tables(3_000)
    small = set(sampled_tables(tables, 0.1).purchases["customer_id"])
    large = set(sampled_tables(tables, 0.4).purchases["customer_id"])
    assert small < large
    assert small == set(sampled_tables(tables, 0.1).purchases["customer_id"])


def test_churners_are_not_thinned_more_than_stayers():
    ids = pd.Series([f"C{i}" for i in range(40_000)])
    churned = pd.Series([i % 5 == 0 for i in range(40_000)])  # a 20% churn rate
    tables = SourceTables(pd.DataFrame({"customer_id": ids}))
    kept = sampled_tables(tables, 0.2).purchases["customer_id"]
    chosen = ids.isin(kept)
    kept_churners = chosen[churned].mean()
    kept_stayers = chosen[~churned].mean()
    assert kept_churners == pytest.approx(0.2, abs=0.02)
    assert kept_stayers == pytest.approx(0.2, abs=0.02)
    assert chosen[churned].sum() / chosen.sum() == pytest.approx(0.2, abs=0.02)


def test_customer_ids_union_buyers_and_the_master():
    assert sorted(customer_ids(_tables(3))) == ["C0", "C1", "C2", "never-bought"]
    assert sorted(customer_ids(SourceTables(pd.DataFrame({"customer_id": ["b", "a", "b"]})))) \
        == ["a", "b"]


def test_training_sample_note_says_all_when_not_sampled():
    sample = TrainingSample(share=1.0, customers=10, sampled_customers=10,
                            estimated_peak_mb=1.0, budget_mb=4096)
    assert sample.note(30).startswith("all labelled snapshots of 10 customers (30 rows")
