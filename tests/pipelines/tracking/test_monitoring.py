"""The archive side of monitoring: shipped lists read back with their recorded label spec,
the track record files, the report's monitoring sections."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from features.labels import LabelSpec
from models.monitoring import MonitoringPolicy, monitoring_summary, reference_profile
from pipelines.deliver.monitoring_section import monitoring_html, retrain_banner, track_record_html
from pipelines.deliver.shard_pass import track_record_of
from pipelines.store.settings import Settings
from pipelines.tracking import monitoring
from tests import factories as f


def _archive(settings: Settings, as_of: str, run_id: str, spec: LabelSpec) -> None:
    run_dir = settings.scored_dir / as_of / run_id
    run_dir.mkdir(parents=True)
    pd.DataFrame({"customer_id": ["a", "b", "c"], "churn_probability": [0.9, 0.5, 0.1],
                  "risk_tier": ["Critical", "Watch", "Safe"], "value_at_risk": [9.0, 5.0, 1.0],
                  "annual_revenue": [10.0, 10.0, 10.0], "reason_1": ["", "", ""]}
                 ).to_parquet(run_dir / "risk_list.parquet")
    (run_dir / "metadata.json").write_text(json.dumps({
        "as_of": as_of, "run_id": run_id, "model_version": "2", "label": spec.model_dump(),
        "tier_policy": {"top_tiers": ["Critical"]},
        "model_validation": {"roc_auc": 0.8, "pr_auc": 0.5}}))
    (run_dir / "report.html").write_text("<html></html>")  # a complete run has its report


def test_track_record_of_the_archive_is_written_with_its_recorded_spec(tmp_path):
    settings = Settings(data_dir=tmp_path, mlflow_tracking_uri="sqlite:///unused.db")
    _archive(settings, "2026-03-01", "r1", LabelSpec(horizon_days=30))
    _archive(settings, "2026-03-01", "r2", LabelSpec(horizon_days=120))  # ends 06-29
    (settings.scored_dir / "2026-04-01" / "broken").mkdir(parents=True)  # no files: skipped
    purchases = f.purchases([("a", "2026-02-01", 5), ("b", "2026-02-01", 5),
                             ("c", "2026-02-01", 5), ("c", "2026-03-10", 5)])
    tables = f.tables(purchases=purchases)
    record = track_record_of(settings, tables, dt.date(2026, 4, 30))
    assert record.lists["status"].tolist() == ["graded", "not matured"]
    graded = record.lists.iloc[0]
    assert graded["churned"] == 2 and graded["roc_auc"] == 1.0  # the stayer c ranked last
    assert graded["precision_top_tiers"] == 1.0 and graded["recall_top_tiers"] == 0.5
    assert record.lists.iloc[1]["matures_on"] == dt.date(2026, 6, 29)
    files = monitoring.write_track_record(settings, record)
    written = pd.read_csv(files["csv"])
    assert written["run_id"].tolist() == ["r1", "r2"]
    assert pd.read_parquet(files["parquet"])["status"].tolist() == ["graded", "not matured"]
    assert not list(settings.reports_dir.glob(".*"))  # no temp file left behind
    html = track_record_html(record, "en")
    assert "not matured yet (matures on 2026-06-29)" in html and "1.000 (0.800)" in html
    assert "data:image/png;base64," in html


def test_lists_scored_after_the_data_end_are_left_out(tmp_path):
    settings = Settings(data_dir=tmp_path, mlflow_tracking_uri="sqlite:///unused.db")
    _archive(settings, "2026-03-01", "r1", LabelSpec(horizon_days=30))
    tables = f.tables(purchases=f.purchases([("a", "2026-02-01", 5)]))
    assert track_record_of(settings, tables, dt.date(2026, 2, 28)).lists.empty
    same_day = track_record_of(settings, tables, dt.date(2026, 3, 1)).lists
    assert same_day["status"].tolist() == ["not matured"]


def test_the_monitoring_section_and_banner_render_the_verdict():
    training = pd.DataFrame({"x": range(100)}, dtype=float)
    reference = reference_profile(training, ["x"], training["x"].to_numpy() / 100,
                                  label_rate=0.2, cutoff="2026-01-01")
    summary = monitoring_summary(reference, training + 60, training["x"].to_numpy() / 100,
                                 MonitoringPolicy())
    summary["retrain"] = {"due": True, "reason": "1 of 1 features drifted"}
    html = monitoring_html(summary, "en")
    assert "Drift: the population moved past the policy threshold (PSI ≥ 0.20)" in html
    assert "x ⚠" in html
    assert "Retraining recommended: 1 of 1 features drifted" in retrain_banner(summary, "en")
    assert retrain_banner(None, "en") == ""
    assert "Geen trainingsreferentie" in monitoring_html(None, "nl")
