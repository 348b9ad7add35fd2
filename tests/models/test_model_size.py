"""The model's size rule: the fewest trees within a tolerance of the best out-of-time loss,
never more than `max_trees`, recorded with the model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.catalog import feature_names
from features.labels import LabelSpec
from models.params import TrainParams
from models.train import fit_probe, model_size, parsimonious_trees
from pipelines.tracking.runs import model_meta
from tests import factories as f

# a typical validation curve: falls fast, flattens, bottoms out at tree 6, rises again
HISTORY = [0.70, 0.60, 0.52, 0.505, 0.501, 0.500, 0.5005, 0.51]


def test_the_rule_keeps_the_fewest_trees_within_tolerance_of_the_best():
    # 0.2 % of 0.500 allows up to 0.501: tree 5 is the first that low
    assert parsimonious_trees(HISTORY, 0.002, len(HISTORY)) == 5
    # a looser tolerance stops earlier: 5 % allows 0.525, first reached at tree 3
    assert parsimonious_trees(HISTORY, 0.05, len(HISTORY)) == 3


def test_tolerance_zero_is_the_best_iteration():
    assert parsimonious_trees(HISTORY, 0.0, len(HISTORY)) == 6
    # a tie keeps the first of the equal minima, as LightGBM's early stopping does
    assert parsimonious_trees([0.6, 0.5, 0.5, 0.55], 0.0, 4) == 2


def test_the_cap_holds_and_the_best_is_judged_within_it():
    assert parsimonious_trees(HISTORY, 0.0, 4) == 4
    size = model_size(HISTORY, 0.002, 4)
    assert (size.trees, size.best_iteration) == (4, 4)
    assert size.capped  # the loss was still falling at the cap
    assert not model_size(HISTORY, 0.002, len(HISTORY)).capped


def test_an_empty_history_is_refused_in_words():
    with pytest.raises(ValueError, match="empty validation history"):
        parsimonious_trees([], 0.002, 10)


@given(st.lists(st.floats(0.05, 2.0), min_size=1, max_size=60),
       st.floats(0.0, 0.1), st.integers(1, 80))
def test_the_kept_size_is_the_first_within_the_bound(losses, tolerance, cap):
    trees = parsimonious_trees(losses, tolerance, cap)
    seen = np.asarray(losses[:cap])
    bound = seen.min() * (1 + tolerance)
    assert 1 <= trees <= min(cap, len(losses))
    assert seen[trees - 1] <= bound
    assert (seen[:trees - 1] > bound).all()
    assert trees <= int(np.argmin(seen)) + 1


def test_the_probe_boosts_no_further_than_max_trees(model_input):
    params = TrainParams(label=LabelSpec(horizon_days=60), max_boost_rounds=200, max_trees=12,
                         early_stopping_rounds=20, min_child_samples=20, n_jobs=1)
    probe = fit_probe(model_input, feature_names(f.MODEL_SOURCES), params)
    assert probe.size.trees <= probe.size.best_iteration <= 12
    assert probe.size.max_trees == 12
    assert probe.best_iteration == probe.size.trees


def test_the_fitted_model_has_the_chosen_trees_and_records_its_size(fitted):
    size = fitted.size
    assert size is not None
    assert fitted.classifier.n_estimators == size.trees == fitted.best_iteration
    assert size.trees <= size.best_iteration
    assert size.valid_logloss_at_trees <= size.valid_logloss_at_best * (1 + size.tolerance)
    recorded = model_meta(fitted)["model_size"]
    assert recorded == size.as_params()
    assert recorded["trees"] == size.trees
    assert recorded["best_iteration_trees"] == size.best_iteration
    # logged next to the TrainParams in one MLflow params dict: no name may clash
    assert not set(recorded) & set(TrainParams().model_dump())
