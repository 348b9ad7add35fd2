"""The model's outputs by customer shard are its outputs on the whole frame, bit for bit, in
the frame's order, whatever the number of shards."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.outputs import joined_outputs, model_outputs, shard_jobs, shard_outputs

ROWS = 400


@pytest.fixture(scope="module")
def frame(model_input):
    # a shuffled, non-default index: the joined outputs must come back on it, in its order
    rows = model_input.sample(ROWS, random_state=3)
    return rows.set_axis(pd.Index([f"row{i}" for i in range(ROWS)][::-1]))


@pytest.fixture(scope="module")
def whole(fitted, frame):
    return model_outputs(fitted, frame, no_data_features=("spend_90d",))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shards=st.integers(1, 9))
def test_any_shard_count_gives_the_whole_frames_outputs(fitted, frame, whole, shards):
    jobs = shard_jobs(frame, shards, ("spend_90d",))
    assert sum(len(job.features) for job in jobs) == ROWS
    joined = joined_outputs([shard_outputs(job, fitted) for job in jobs], frame.index)
    pd.testing.assert_series_equal(joined.probability, whole.probability, check_exact=True)
    pd.testing.assert_frame_equal(joined.contributions, whole.contributions, check_exact=True)
    pd.testing.assert_frame_equal(joined.reasons, whole.reasons, check_exact=True)


def test_shards_follow_the_one_customer_to_shard_function(frame):
    from features.shards import customer_shards

    jobs = shard_jobs(frame, 4)
    expected = customer_shards(frame["customer_id"], 4)
    for job in jobs:
        assert len(set(expected[job.features.index])) == 1


def test_a_lost_shard_is_refused_not_joined_short(fitted, frame):
    parts = [shard_outputs(job, fitted) for job in shard_jobs(frame, 3)]
    with pytest.raises(ValueError, match="not the 400 scored rows"):
        joined_outputs(parts[:-1], frame.index)


def test_reasons_of_a_shard_compare_with_the_whole_run(fitted, frame, whole):
    """A shard alone would compare with its own medians; given the run's, it reads as the
    whole run does."""
    job = shard_jobs(frame, 2, ("spend_90d",))[0]
    assert job.reference == shard_jobs(frame, 1)[0].reference
    positions = job.features.index
    shard = shard_outputs(job, fitted).reasons
    pd.testing.assert_frame_equal(shard.set_axis(frame.index[positions]),
                                  whole.reasons.iloc[positions], check_exact=True)


def test_a_shard_joined_twice_is_refused(fitted, frame):
    parts = [shard_outputs(job, fitted) for job in shard_jobs(frame, 3)]
    with pytest.raises(ValueError, match="once each"):
        joined_outputs([*parts, parts[0]], frame.index)


def test_probabilities_handed_in_are_the_ones_predicted(fitted, frame, whole):
    """A run that predicted everyone's probability hands the shards theirs: the outputs are
    those the shards would predict themselves."""
    known = whole.probability.to_numpy()
    jobs = shard_jobs(frame, 3, ("spend_90d",), probability=known)
    assert all(job.probability is not None for job in jobs)
    joined = joined_outputs([shard_outputs(job, fitted) for job in jobs], frame.index)
    pd.testing.assert_series_equal(joined.probability, whole.probability, check_exact=True)
    pd.testing.assert_frame_equal(joined.contributions, whole.contributions, check_exact=True)
    pd.testing.assert_frame_equal(joined.reasons, whole.reasons, check_exact=True)
