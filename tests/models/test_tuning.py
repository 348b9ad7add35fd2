from __future__ import annotations

import pytest

from features.catalog import feature_names
from features.labels import LabelSpec
from models.params import TrainParams
from models.tuning import SearchSpace, backtest_objective, tune
from tests.factories import MODEL_SOURCES as SOURCES

optuna = pytest.importorskip("optuna")

BASE = TrainParams(label=LabelSpec(horizon_days=60), max_boost_rounds=40,
                   early_stopping_rounds=10, min_child_samples=20, backtest_origins=1, n_jobs=1)


def test_tuning_returns_the_best_trial_within_the_search_space(model_input):
    seen = []
    best, trials = tune(model_input, feature_names(SOURCES), BASE, n_trials=2,
                        on_trial=seen.append)
    assert [t.number for t in seen] == [0, 1] and seen == trials
    top = max(trials, key=lambda t: t.value)
    assert best.num_leaves == top.params["num_leaves"]
    assert best.learning_rate == pytest.approx(top.params["learning_rate"])
    space = SearchSpace()
    assert space.num_leaves[0] <= best.num_leaves <= space.num_leaves[1]
    assert best.label == BASE.label  # business parameters are never tuned
    # the objective is the out-of-time PR-AUC on the latest backtest origin
    assert top.per_origin == backtest_objective(
        model_input, feature_names(SOURCES), best, "pr_auc")
