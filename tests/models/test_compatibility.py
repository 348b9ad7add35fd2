"""The champion against the data as it is now: differences, 'no data', refusal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.compatibility import (
    NoDataPolicy,
    compare,
    model_gain_shares,
    source_of,
)
from models.explain import GROUP_OF_FEATURE
from models.score import score_customers
from tests.factories import MODEL_SOURCES

OPTIONAL = [s for s in MODEL_SOURCES if s != "purchases"]  # purchases are always staged


@pytest.fixture(scope="module")
def latest(model_input):
    frame = model_input[model_input["cutoff"] == model_input["cutoff"].max()].copy()
    frame["as_of"] = frame["cutoff"]
    return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def shares(fitted):
    return model_gain_shares(fitted.classifier)


def _without(frame, fitted, sources):
    return frame.drop(columns=[f for f in fitted.features if source_of(f) in sources])


def test_the_data_the_model_was_trained_on_fits_it(fitted, latest, shares):
    check = compare(fitted.features, fitted.levels, latest, MODEL_SOURCES, shares)
    assert check.status == "compatible" and not check.differences
    assert check.with_no_data(latest) is latest
    assert sum(shares.values()) == pytest.approx(1.0)


def test_a_source_gone_scores_as_no_data_when_the_model_can_do_without_it(
        fitted, latest, shares):
    gone = _without(latest, fitted, {"complaints"})
    check = compare(fitted.features, fitted.levels, gone,
                    [s for s in MODEL_SOURCES if s != "complaints"], shares,
                    NoDataPolicy(max_gain_share=1.0))
    assert check.status == "scored_with_no_data" and not check.refused
    assert check.no_data_sources == ("complaints",)
    assert set(check.no_data_features) == {f for f in fitted.features
                                           if source_of(f) == "complaints"}
    assert check.no_data_gain_share == pytest.approx(
        sum(shares[f] for f in check.no_data_features))
    assert "the complaints source the model was trained with is no longer staged" in \
        check.differences_text()
    restored = check.with_no_data(gone)
    assert restored[list(check.no_data_features)].isna().all().all()
    risk, _ = score_customers(fitted, restored, model_version="1",
                              no_data_features=check.no_data_features)
    cited = {risk[f"reason_group_{k}"].iloc[i] for k in (1, 2, 3) for i in range(len(risk))}
    complaint_groups = {GROUP_OF_FEATURE[f] for f in check.no_data_features}
    assert not cited & complaint_groups  # no reason cites data that is not there
    assert risk["open_complaints"].isna().all()


def test_a_source_the_model_leans_on_refuses_with_the_differences(fitted, latest, shares):
    gone = _without(latest, fitted, {"complaints"})
    share = sum(shares[f] for f in fitted.features if source_of(f) == "complaints")
    check = compare(fitted.features, fitted.levels, gone,
                    [s for s in MODEL_SOURCES if s != "complaints"], shares,
                    NoDataPolicy(max_gain_share=share / 2))
    assert check.refused and check.status == "refused"
    assert check.record()["differences"][0]["subject"] == "complaints"


def test_a_changed_column_type_refuses(fitted, latest, shares):
    numbers = latest.assign(segment=np.arange(len(latest)) % 3)
    check = compare(fitted.features, fitted.levels, numbers, MODEL_SOURCES, shares)
    assert check.refused
    assert "segment holds numbers now where the model was trained on the categories" in \
        check.differences_text()
    text = latest.assign(recency_days=latest["recency_days"].astype(str))
    check = compare(fitted.features, fitted.levels, text, MODEL_SOURCES, shares)
    assert check.refused and "recency_days holds text now" in check.differences_text()


def test_new_categories_score_as_no_data_and_are_named(fitted, latest, shares):
    region = latest["region"].where(latest.index % 10 != 0, "Berlin")
    check = compare(fitted.features, fitted.levels, latest.assign(region=region),
                    MODEL_SOURCES, shares)
    assert not check.refused and check.status == "scored_with_no_data"
    assert not check.no_data_features  # every feature is still there
    new = (latest.index % 10 == 0).sum()
    assert f"region has values training never saw (Berlin; {new} customers)" in \
        check.differences_text()


@settings(max_examples=25, deadline=None)
@given(gone=st.sets(st.sampled_from(OPTIONAL)), limit=st.floats(0, 1))
def test_refused_exactly_when_what_is_gone_carries_more_than_the_limit(
        fitted, latest, shares, gone, limit):
    check = compare(fitted.features, fitted.levels, _without(latest, fitted, gone),
                    [s for s in MODEL_SOURCES if s not in gone], shares,
                    NoDataPolicy(max_gain_share=limit))
    share = sum(shares[f] for f in fitted.features if source_of(f) in gone)
    assert check.refused == (share > limit)
    assert set(check.no_data_sources) == gone
    assert check.status == ("compatible" if not gone else
                            "refused" if share > limit else "scored_with_no_data")
