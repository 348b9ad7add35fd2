"""The loop driven by the pipeline's own lists (`bench.loop_pipeline`, in full: `make
loop-pipeline`): a few weekly chains on a small simulated shop, the team working each list's
contact arm, the action log ingested back, then the track record against the truth."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.loop_pipeline import Arm, recovery, run_arm, simulator_action
from pipelines.sample.retention_world import CALL, OFFER, LoopConfig, RetentionEffects

pytestmark = pytest.mark.flow

WEEKS, HORIZON = 4, 28


def test_playbook_actions_map_to_what_the_simulator_can_do():
    assert simulator_action("resolve_complaint") == CALL
    assert simulator_action("personal_winback_call") == CALL
    assert simulator_action("personal_winback_offer") == OFFER
    assert simulator_action("light_nurture") == OFFER
    assert simulator_action("reorder_reminder") == OFFER
    assert simulator_action("no_action") is None


@pytest.fixture(scope="module")
def loop(prefect_api, tmp_path_factory):
    from features.labels import LabelSpec
    from models.params import TrainParams

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        data_dir = tmp_path_factory.mktemp("loop-pipeline") / "data"
        config = LoopConfig(customers=300, weeks=WEEKS, warmup_weeks=40,
                            horizon_days=HORIZON, holdout_share=0.3, truth_replicates=20)
        params = TrainParams(label=LabelSpec(horizon_days=HORIZON), n_cutoffs=3,
                             max_boost_rounds=60, min_positives=10, min_negatives=10)
        run = run_arm(data_dir, config, Arm("A", capacity=15), RetentionEffects(),
                      params=params, report=lambda _: None)
        yield data_dir, run


def test_every_logged_action_is_for_a_contact_arm_row_of_that_weeks_list(loop):
    data_dir, run = loop
    lists = []
    for path in sorted((data_dir / "scored").glob("*/*/risk_list.parquet")):
        frame = pd.read_parquet(path)
        lists.append(frame[["list_run_id", "row_id", "customer_id", "holdout"]])
    listed = pd.concat(lists, ignore_index=True)
    assert listed["list_run_id"].nunique() == WEEKS
    joined = run.actions.merge(listed, on=["list_run_id", "row_id"], how="left",
                               suffixes=("", "_list"), validate="one_to_one")
    assert len(run.actions) > 0
    assert (joined["customer_id"] == joined["customer_id_list"]).all()
    assert not joined["holdout"].astype(bool).any()


def test_held_out_customers_get_no_action_during_their_assignment(loop):
    _, run = loop
    treated = run.treated
    held = treated[treated["holdout"]]
    assert len(held) > 0 and not held["contacted"].any() and not held["saved"].any()
    # nobody held out by a standing assignment is contacted in a later week either
    standing = treated[treated["holdout"]][["customer_id", "assigned_in"]].drop_duplicates()
    later = treated.merge(standing, on=["customer_id", "assigned_in"])
    assert not later["contacted"].any()


def test_the_action_log_round_trips_through_ingest(loop):
    from pipelines.store.settings import Settings
    from pipelines.store.staged import load_staged_actions

    data_dir, run = loop
    staged = load_staged_actions(Settings.from_env(str(data_dir)))
    assert staged is not None
    assert sorted(staged["row_id"]) == sorted(run.actions["row_id"])
    assert sorted(staged["list_run_id"].unique()) == sorted(run.actions["list_run_id"].unique())
    assert float(staged["cost"].sum()) == pytest.approx(float(run.actions["cost"].sum()))


def test_the_track_record_grades_every_list_and_covers_the_truth_overall(loop):
    _, run = loop
    table = recovery(run)
    overall = table.set_index(["tier", "planned_action"]).loc[("*", "*")]
    randomised = run.treated[run.treated["fresh"]]
    # the track record's randomised customers are the ones the lists assigned themselves
    assert overall["contacted"] + overall["holdout"] == len(randomised)
    assert overall["holdout"] == int(randomised["holdout"].sum())
    # reached: contact-arm customers the log shows contacted while their assignment stood
    worked = run.treated[run.treated["contacted"]]
    assert overall["reached"] == len(worked[["assigned_in", "customer_id"]].drop_duplicates())
    assert overall["effect_low"] <= overall["true_effect_itt"] <= overall["effect_high"]
    # nothing saves the already-gone
    gone = run.treated["hidden_state"] == 2
    assert (run.treated.loc[gone, "true_effect"] == 0).all()
