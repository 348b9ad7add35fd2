"""`churn score` options: checked before any flow runs, one clear line on a bad value."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_prefect_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))


def test_score_help_explains_the_new_options():
    output = " ".join(runner.invoke(app, ["score", "--help"]).output.split())
    for option in ("--sort", "--lang", "--csv-delimiter", "--tier-policy", "--critical-top"):
        assert option in output
    assert "en, tr or nl" in output


@pytest.mark.parametrize("args, message", [
    (["--lang", "de"], "invalid option"),
    (["--sort", "name"], "invalid option"),
    (["--csv-delimiter", ";;"], "invalid option"),
    (["--critical-top", "5", "--tier-policy", "p.json"], "either --tier-policy or --critical-top"),
])
def test_bad_score_options_end_with_one_line_and_exit_1(tmp_path, args, message):
    result = runner.invoke(app, ["score", "--data-dir", str(tmp_path / "data"), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_tier_policy_file_with_unordered_cutoffs_is_rejected(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"version": "x", "tiers": [{"name": "Watch", "min_probability": 0.3},'
                      ' {"name": "Critical", "min_probability": 0.7}]}')
    result = runner.invoke(app, ["score", "--data-dir", str(tmp_path / "data"),
                                 "--tier-policy", str(policy)])
    assert result.exit_code == 1
    assert "highest first" in " ".join(result.output.split())


def test_demo_checks_its_language_before_generating_anything(tmp_path):
    result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "data"), "--lang", "de"])
    assert result.exit_code == 1
    assert "demo failed: invalid option" in " ".join(result.output.split())
    assert not (tmp_path / "data" / "raw").exists()
