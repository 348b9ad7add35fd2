"""`churn analyze`: its help, its option checks, and the flow on a small data dir."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


def test_analyze_has_help_with_its_options():
    result = runner.invoke(app, ["analyze", "--help"])
    assert result.exit_code == 0
    for option in ("--data-dir", "--as-of", "--lang", "--period", "--sla-hours"):
        assert option in result.output


def test_an_unknown_period_or_language_is_one_clear_line(tmp_path):
    for args in (["--period", "week"], ["--lang", "de"]):
        result = runner.invoke(app, ["analyze", "--data-dir", str(tmp_path), *args])
        assert result.exit_code == 1
        assert "analyze failed" in result.output


@pytest.mark.flow
def test_analyze_flow_writes_the_folder_of_the_data_end(prefect_api, tmp_path):
    from pipelines import tasks
    from pipelines.flows import analyze_flow
    from pipelines.store.settings import Settings

    settings = Settings.from_env(tmp_path)
    tasks.generate_sample_exports.fn(settings, 300, 4, None)
    tasks.stage_raw_exports.fn(settings)
    result = analyze_flow(str(tmp_path), None, None, "en")
    end = tasks.resolve_cutoff.fn(settings, None)
    assert result["as_of"] == str(end) and isinstance(end, dt.date)
    assert (tmp_path / "analytics" / str(end) / "analytics.html").exists()
