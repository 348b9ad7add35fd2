from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalog import feature_names
from features.labels import LabelSpec
from models.backtest import (
    backtest_origins,
    backtest_summary,
    rolling_origin_backtest,
    segment_breakdown,
    tenure_band,
)
from models.params import TrainParams
from tests.factories import MODEL_SOURCES as SOURCES


def test_origins_are_the_latest_cutoffs_with_a_labelled_history(model_input):
    # cutoffs every 30 days from 2024-01-31; with a 60-day horizon the first usable origin is
    # the third cutoff (2024-03-31)
    origins = backtest_origins(model_input, window_days=60, k=10)
    assert [str(o) for o in origins] == ["2024-03-31", "2024-04-30", "2024-05-30"]
    assert [str(o) for o in backtest_origins(model_input, 60, 2)] == ["2024-04-30",
                                                                      "2024-05-30"]


def test_backtest_gives_one_row_per_origin_and_a_spread(model_input):
    params = TrainParams(label=LabelSpec(horizon_days=60), max_boost_rounds=60,
                         early_stopping_rounds=10, min_child_samples=20, backtest_origins=2, n_jobs=1)
    table = rolling_origin_backtest(model_input, feature_names(SOURCES), params)
    assert table["origin"].tolist() == ["2024-04-30", "2024-05-30"]
    # the earlier origin trains on fewer cutoffs: only those labelled by it
    assert table["train_cutoffs"].tolist() == [2, 3]
    summary = backtest_summary(table)
    assert summary["backtest_origins"] == 2
    assert summary["backtest_roc_auc_mean"] == table["roc_auc"].mean()
    assert summary["backtest_roc_auc_std"] >= 0
    assert backtest_summary(pd.DataFrame()) == {}


def test_tenure_bands():
    bands = tenure_band(pd.Series([0.0, 179.0, 180.0, 400.0, 800.0, np.nan]))
    assert bands.tolist() == ["tenure <6m", "tenure <6m", "tenure 6-12m", "tenure 1-2y",
                              "tenure 2y+", "tenure unknown"]


def test_segment_breakdown_skips_metrics_for_tiny_groups():
    rng = np.random.default_rng(0)
    n = 130
    valid = pd.DataFrame({
        "tenure_days": [100.0] * 120 + [1000.0] * 10,
        "segment": ["SMB"] * 60 + ["Consumer"] * 70,
        "churned": rng.integers(0, 2, n),
    })
    table = segment_breakdown(valid, rng.random(n)).set_index(["by", "group"])
    assert table.loc[("tenure_band", "tenure <6m"), "customers"] == 120
    assert np.isnan(table.loc[("tenure_band", "tenure 2y+"), "roc_auc"])  # 10 rows only
    assert np.isfinite(table.loc[("segment", "SMB"), "roc_auc"])
    assert table.loc[("segment", "Consumer"), "churn_rate"] == valid["churned"][60:].mean()
