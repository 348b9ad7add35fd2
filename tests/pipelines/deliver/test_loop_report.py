"""The loop's IO: holdouts read back from the archive, the effects written, the save rate in
force handed to training."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from features.labels import LabelSpec
from features.sources import SourceTables
from models.effects import MIN_CUSTOMERS_PER_ARM
from models.params import TrainParams
from models.tiers import TierPolicy
from pipelines.deliver.holdouts import archived_assignments, list_with_holdout
from pipelines.deliver.loop_report import (
    archive_loop_record,
    loop_lines,
    save_rates_in_force,
    with_save_rate_in_force,
    write_loop_record,
)
from pipelines.store.settings import Settings
from tests import factories as f

AS_OF = dt.date(2026, 3, 1)
SPEC = LabelSpec(horizon_days=30)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(tmp_path / "data")


def _archive(settings: Settings, risk: pd.DataFrame, run_id: str, as_of: dt.date = AS_OF):
    run_dir = settings.scored_dir / str(as_of) / run_id
    run_dir.mkdir(parents=True)
    risk.to_parquet(run_dir / "risk_list.parquet")
    (run_dir / "metadata.json").write_text(json.dumps(
        {"as_of": str(as_of), "run_id": run_id, "label": SPEC.model_dump(),
         "tier_policy": {"top_tiers": ["Critical"]}}))
    (run_dir / "report.html").write_text("")  # complete, as archive.archived_runs reads it


def _risk(n_held: int, n_contacted: int, run_id: str = "R1") -> pd.DataFrame:
    ids = [f"H{i:04d}" for i in range(n_held)] + [f"C{i:04d}" for i in range(n_contacted)]
    return pd.DataFrame({
        "customer_id": ids, "churn_probability": 0.5, "risk_tier": "Critical",
        "value_at_risk": 50.0, "annual_revenue": 100.0,
        "holdout": [True] * n_held + [False] * n_contacted, "assigned_in": run_id,
        "planned_action": "personal_call"})


def _purchases(risk: pd.DataFrame, buyers: set[str]) -> pd.DataFrame:
    rows = [(c, "2026-02-01", 10.0) for c in risk["customer_id"]]
    rows += [(c, "2026-03-10", 10.0) for c in sorted(buyers)]
    return f.purchases(rows)


def test_a_new_list_keeps_the_archived_arms_until_their_window_ends(settings):
    _archive(settings, _risk(1, 2), "R1")
    assert archived_assignments(settings.scored_dir)["window_end"].dt.date.unique().tolist() \
        == [dt.date(2026, 3, 31)]
    scored = pd.DataFrame({"customer_id": ["H0000", "C0000", "NEW"],
                           "risk_tier": ["Safe", "Critical", "Critical"],
                           "action_key": "personal_call", "action_params": [{}, {}, {}]})
    marked, record = list_with_holdout(scored, TierPolicy(holdout_share=0.5),
                                       dt.date(2026, 3, 8), "R2", settings.scored_dir)
    assert marked["holdout"].tolist() == [True, False, True]  # NEW: 1 of 1 at 0.5 rounds up
    assert marked["assigned_in"].tolist() == ["R1", "R1", "R2"]
    assert (record["randomised"], record["carried_over"], record["carried_over_held_out"]) \
        == (1, 2, 1)
    # after R1's window, its customers are drawn afresh
    later, _ = list_with_holdout(scored, TierPolicy(holdout_share=0.5), dt.date(2026, 3, 31),
                                 "R3", settings.scored_dir)
    assert later["assigned_in"].isna().tolist() == [True, False, False]  # Safe: not drawn
    assert later["assigned_in"].dropna().tolist() == ["R3", "R3"]


def test_track_record_effects_are_written_and_the_measured_save_rate_reaches_training(settings):
    n = MIN_CUSTOMERS_PER_ARM
    risk = _risk(n, n)
    # held out: half buy (half churn); contacted: three quarters buy (a quarter churn)
    buyers = {c for i, c in enumerate(risk["customer_id"][:n]) if i % 2} | {
        c for i, c in enumerate(risk["customer_id"][n:]) if i % 4}
    _archive(settings, risk, "R1")
    actions = f.actions([("C0001", "2026-03-05", "called", 4.0),
                         ("C0002", "2026-05-05", "called", 4.0)])  # after the data end
    record = archive_loop_record(settings, SourceTables(_purchases(risk, buyers)),
                                 dt.date(2026, 4, 30), actions)
    overall = record.pooled.set_index(["tier", "planned_action"]).loc[("*", "*")]
    assert (overall["churn_rate_holdout"], overall["churn_rate_contacted"]) == (0.5, 0.25)
    assert overall["save_rate"] == 0.5 and overall["enough"] and overall["cost"] == 4.0
    assert "interval excludes zero" in loop_lines(record)[0]
    files = write_loop_record(settings, record, assumed=0.2)
    assert pd.read_csv(files["effects"])["run_id"].unique().tolist() == ["R1"]
    rates = save_rates_in_force(settings)["by_action"]
    assert rates["*"]["measured"] and rates["personal_call"]["save_rate"] == 0.5
    params = with_save_rate_in_force(settings, TrainParams())
    assert params.save_rate == 0.5 and params.save_rate_source.startswith("measured on 200")


def test_without_matured_holdouts_the_assumption_stays_and_says_so(settings):
    assert with_save_rate_in_force(settings, TrainParams()).save_rate_source == "assumed"
    _archive(settings, _risk(3, 3), "R1")
    record = archive_loop_record(settings, SourceTables(_purchases(_risk(3, 3), set())),
                                 dt.date(2026, 3, 20), None)
    assert loop_lines(record) == [
        "no matured list with a holdout yet: the effect of contacting is not measured"]
    write_loop_record(settings, record, assumed=0.2)
    assert save_rates_in_force(settings)["by_action"]["*"]["source"].startswith("assumed")


def test_the_run_summary_says_who_is_held_out_in_the_runs_language():
    from pipelines.deliver.summary import holdout_lines

    holdout = {"held_out": 31, "randomised": 311, "carried_over_held_out": 4, "seed": 0}
    assert holdout_lines(holdout, "en") == [
        "Holdout (do not contact): 31 of the 311 customers randomised in this list, and 4 "
        "from earlier lists whose assignment still stands (seed 0)"]
    assert holdout_lines(holdout, "tr")[0].startswith("Kontrol grubu")
    assert holdout_lines(None, "en") == []


def test_the_uplift_check_waits_for_enough_randomised_customers(settings):
    from pipelines.deliver.loop_report import uplift_check, uplift_line

    _archive(settings, _risk(3, 3), "R1")
    record = archive_loop_record(settings, SourceTables(_purchases(_risk(3, 3), set())),
                                 dt.date(2026, 5, 1), None)
    check = uplift_check(record)
    assert check["status"] == "not enough randomised customers yet"
    assert uplift_line(check) == "uplift model: not judged (not enough randomised customers yet)"
    assert check["lists"] == 1 and check["train_smaller_arm"] == 0


def test_the_uplift_line_states_the_saved_value_orderings_gain_and_interval():
    from pipelines.deliver.loop_report import uplift_line

    check = {"status": "judged", "test_lists": 2, "lists": 6, "uplift_beats_risk": False,
             "qini_area": {"uplift": 0.01, "risk": 0.02, "random": 0.0},
             "stratum_gain_over_risk": {"gain": 0.03, "low": 0.01, "high": 0.05},
             "stratum_beats_risk": True}
    line = uplift_line(check)
    assert line.endswith("Qini gain over the riskiest +0.0300 [+0.0100, +0.0500], above zero: "
                         "try it")
    check["stratum_beats_risk"] = False
    assert uplift_line(check).endswith("not above zero")


def _measured_call_record(settings: Settings):
    """One matured list: 100 held out (half churn) against 100 contacted (a quarter churn),
    all planned a personal call: save rate 0.25 / 0.5 = 0.5 on 200 customers."""
    n = MIN_CUSTOMERS_PER_ARM
    risk = _risk(n, n)
    buyers = {c for i, c in enumerate(risk["customer_id"][:n]) if i % 2} | {
        c for i, c in enumerate(risk["customer_id"][n:]) if i % 4}
    _archive(settings, risk, "R1")
    return archive_loop_record(settings, SourceTables(_purchases(risk, buyers)),
                               dt.date(2026, 4, 30), None)


def test_each_playbook_action_gets_its_measured_rate_or_the_assumption(settings):
    from models.card import action_save_rate_lines
    from models.playbook import default_playbook_text, playbook_actions
    from pipelines.deliver.loop_report import save_rate_lines

    write_loop_record(settings, _measured_call_record(settings), assumed=0.2)
    rates = save_rates_in_force(settings)["by_action"]
    shipped = playbook_actions(default_playbook_text())
    assert list(rates) == ["*", *shipped]  # personal_call is one of the shipped actions
    call = rates["personal_call"]
    assert (call["save_rate"], call["measured"], call["customers"]) == (0.5, True, 200)
    # Newcombe's interval of 50/100 - 25/100 is [0.1162, 0.3717]; over the 0.5 holdout rate
    assert (call["low"], call["high"]) == pytest.approx((0.2324, 0.7434), abs=1e-3)
    nurture = rates["light_nurture"]
    assert (nurture["save_rate"], nurture["measured"], nurture["low"]) == (0.2, False, None)

    params = with_save_rate_in_force(settings, TrainParams())
    assert params.save_rate == 0.5  # the pooled rate, as before
    assert params.action_save_rates["personal_call"].save_rate == 0.5
    assert params.action_save_rates["personal_call"].source == (
        "measured on 200 randomised customers (95% interval 23% to 74%)")
    assert params.action_save_rates["light_nurture"].save_rate == 0.2
    assert params.action_save_rates["light_nurture"].source.startswith("assumed")
    card = action_save_rate_lines(params)
    assert "- personal_call: 50%, measured on 200 randomised customers (95% interval 23% to " \
           "74%)" in card
    assert "- light_nurture: 20%, assumed (fewer than 100 customers in an arm)" in card

    lines = save_rate_lines(save_rates_in_force(settings))
    assert lines[:2] == [
        "save rate, all actions: 50.0%, measured on 200 randomised customers (95% interval "
        "23% to 74%)",
        "save rate, personal_call: 50.0%, measured on 200 randomised customers (95% interval "
        "23% to 74%)"]
    assert lines[2].startswith("save rate assumed (20.0%; fewer than 100 customers in an arm) "
                               "for: winback_campaign, resolve_complaint")


def test_the_data_dirs_own_playbook_names_the_actions_listed(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "playbook.csv").write_text(
        "reason_group,tier,min_value_at_risk,action\n*,Critical,0,personal_call\n"
        "*,*,0,send_voucher\n", encoding="utf-8")
    write_loop_record(settings, _measured_call_record(settings), assumed=0.2)
    rates = save_rates_in_force(settings)["by_action"]
    assert list(rates) == ["*", "personal_call", "send_voucher"]
    assert rates["personal_call"]["measured"] and not rates["send_voucher"]["measured"]


def test_without_a_track_record_the_card_lists_no_action_rates():
    from models.card import action_save_rate_lines

    assert action_save_rate_lines(TrainParams()) == []
