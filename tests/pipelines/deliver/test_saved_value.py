"""The saved-value verdict a scoring run reads from reports/uplift_check.json, and its lines."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from pipelines.deliver.params import ScoreParams
from pipelines.deliver.saved_value import (
    contact_line,
    uplift_verdict,
    verdict_line,
    with_contact_plan,
)
from pipelines.store.settings import Settings


def _settings(tmp_path, check: dict | None) -> Settings:
    settings = Settings.from_env(str(tmp_path / "data"))
    if check is not None:
        settings.reports_dir.mkdir(parents=True, exist_ok=True)
        (settings.reports_dir / "uplift_check.json").write_text(json.dumps(check))
    return settings


def test_without_a_check_the_default_run_says_nothing_and_saved_value_says_not_yet(tmp_path):
    verdict = uplift_verdict(_settings(tmp_path, None))
    assert not verdict["beats_risk_out_of_time"]
    assert verdict_line(verdict, "tier", "en") is None
    line = verdict_line(verdict, "saved_value", "en")
    assert line.startswith("Ranking by expected saved value has not (yet) beaten")
    assert "no out-of-time check yet" in line


def test_a_gain_whose_interval_includes_zero_has_not_beaten_risk(tmp_path):
    check = {"status": "judged", "stratum_beats_risk": False,
             "stratum_gain_over_risk": {"gain": 0.01, "low": -0.002, "high": 0.02}}
    verdict = uplift_verdict(_settings(tmp_path, check))
    assert not verdict["beats_risk_out_of_time"]
    assert "Qini gain 0.0100 [-0.0020, 0.0200]" in verdict_line(verdict, "saved_value", "en")


def test_a_gain_above_zero_is_suggested_on_the_default_run(tmp_path):
    check = {"status": "judged", "stratum_beats_risk": True,
             "stratum_gain_over_risk": {"gain": 0.03, "low": 0.01, "high": 0.05}}
    verdict = uplift_verdict(_settings(tmp_path, check))
    assert verdict["beats_risk_out_of_time"]
    assert verdict_line(verdict, "tier", "en").endswith("try --sort saved_value.")
    assert verdict_line(verdict, "saved_value", "en").endswith("this list is ranked by it.")
    assert "0,0300" in verdict_line(verdict, "tier", "nl")
    assert "saved_value" in verdict_line(verdict, "tier", "tr")


def test_the_contact_plan_flags_by_capacity_and_counts_the_cooldown():
    risk = pd.DataFrame({"customer_id": ["a", "b", "c"], "expected_saved_value": [5.0, 9.0, 7.0],
                         "holdout": [False, False, False]})
    actions = pd.DataFrame({"customer_id": ["b"],
                            "action_at": pd.to_datetime(["2026-02-27"], utc=True)})
    params = ScoreParams(contact_capacity=1, cooldown_days=7)
    out, record = with_contact_plan(risk, params, actions, dt.date(2026, 3, 1))
    assert out["contact_this_week"].tolist() == [0, 0, 1]  # b cools down until 6 March
    assert out["cooldown_until"].tolist() == ["", "2026-03-06", ""]
    assert (record["flagged"], record["in_cooldown"]) == (1, 1)
    assert contact_line(record, "en").startswith("Contact this week: 1 customers (capacity 1")
    same, plain = with_contact_plan(risk, ScoreParams(), actions, dt.date(2026, 3, 1))
    assert same is risk and contact_line(plain, "en") is None
