"""`churn score` options: checked before any flow runs, one clear line on a bad value."""

from __future__ import annotations

import datetime as dt

import pytest
import typer
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.deliver.params import ScoreParams

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_prefect_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))


def test_score_help_explains_the_new_options():
    output = " ".join(runner.invoke(app, ["score", "--help"]).output.split())
    for option in ("--sort", "--lang", "--csv-delimiter", "--tier-policy", "--critical-top"):
        assert option in output
    assert "en|tr|nl" in output and "tier|value|probability" in output  # allowed values


@pytest.mark.parametrize("args, message", [
    (["--lang", "de"], "score failed: --lang must be en, tr or nl, not 'de'"),
    (["--sort", "name"], "score failed: --sort must be tier, value, probability or saved_value, not 'name'"),
    (["--csv-delimiter", ";;"], "score failed: --csv-delimiter must be one character, not ';;'"),
    (["--critical-top", "5", "--tier-policy", "p.json"], "either --tier-policy or --critical-top"),
])
def test_bad_score_options_end_with_one_line_and_exit_1(tmp_path, args, message):
    (tmp_path / "data").mkdir()
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


def test_lapsed_after_days_is_explained_with_the_policy_default():
    from models.tiers import LAPSED_AFTER_DAYS

    assert "--lapsed-after-days" in runner.invoke(app, ["score", "--help"]).output
    command = typer.main.get_command(app).commands["score"]
    option = next(p for p in command.params if p.name == "lapsed_after_days")
    assert "0 = off" in option.help and "win-back" in option.help
    assert option.show_default.startswith(str(LAPSED_AFTER_DAYS))


@pytest.mark.parametrize("args, days", [
    ([], 365),
    (["--lapsed-after-days", "180"], 180),
    (["--lapsed-after-days", "0"], None),
    (["--critical-top", "50", "--lapsed-after-days", "0"], None),
])
def test_lapsed_after_days_reaches_the_scoring_policy(tmp_path, monkeypatch, args, days):
    import pipelines.cli as cli
    import pipelines.flows as flows

    seen = {}
    monkeypatch.setattr(flows, "score_flow", lambda root, as_of, params, *rest: seen.setdefault(
        "policy", params.tier_policy))
    monkeypatch.setattr(cli, "print_scoring", lambda result: None)
    (tmp_path / "data").mkdir()
    result = runner.invoke(app, ["score", "--data-dir", str(tmp_path / "data"), *args])
    assert result.exit_code == 0, result.output
    policy = seen["policy"]
    assert policy.lapsed_after_days == days
    assert ("Lapsed" in policy.names) == (days is not None)
    if "--critical-top" in args:
        assert policy.tiers[0].capacity == 50 and policy.version.endswith("+lapsed-off")


def test_a_policy_file_threshold_is_kept_unless_the_option_overrides_it(tmp_path, monkeypatch):
    import pipelines.cli as cli
    import pipelines.flows as flows

    (tmp_path / "data").mkdir()
    file = tmp_path / "policy.json"
    file.write_text('{"version": "team-1", "lapsed_after_days": 730}')
    seen = []
    monkeypatch.setattr(flows, "score_flow", lambda root, as_of, params, *rest: seen.append(
        params.tier_policy))
    monkeypatch.setattr(cli, "print_scoring", lambda result: None)
    base = ["score", "--data-dir", str(tmp_path / "data"), "--tier-policy", str(file)]
    assert runner.invoke(app, base).exit_code == 0
    assert runner.invoke(app, [*base, "--lapsed-after-days", "400"]).exit_code == 0
    assert [(p.version, p.lapsed_after_days) for p in seen] == [
        ("team-1", 730), ("team-1+lapsed400", 400)]
    negative = runner.invoke(app, [*base, "--lapsed-after-days", "-5"])
    assert negative.exit_code != 0 and "Traceback" not in negative.output


def test_demo_checks_its_language_before_generating_anything(tmp_path):
    result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "data"), "--lang", "de"])
    assert result.exit_code == 1
    assert "demo failed: --lang must be en, tr or nl, not 'de'" in " ".join(
        result.output.split())
    assert not (tmp_path / "data" / "raw").exists()


@pytest.mark.parametrize("command", [["score"], ["train"], ["ingest"], ["features"],
                                     ["analyze"], ["track-record"], ["run"], ["promote", "1"]])
def test_a_data_dir_that_does_not_exist_is_refused_at_once_and_not_created(tmp_path, command):
    missing = tmp_path / "no-such-dir"
    result = runner.invoke(app, [*command, "--data-dir", str(missing)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert f"the data dir {missing} does not exist" in output
    assert not missing.exists()


@pytest.mark.flow
def test_a_cutoff_after_the_data_is_refused_unless_forced(prefect_api, tmp_path):
    from pipelines.ingest.run import ingest_raw_exports
    from pipelines.store.settings import Settings
    from pipelines.tasks import resolve_cutoff

    settings = Settings.from_env(tmp_path / "data")
    (settings.raw_dir / "purchases").mkdir(parents=True)
    (settings.raw_dir / "purchases" / "o.csv").write_text(
        "customer_id,order_id,order_date,amount\nC1,O1,2026-10-31,5\n")
    ingest_raw_exports(settings)
    assert resolve_cutoff.fn(settings, None) == dt.date(2026, 10, 31)
    assert resolve_cutoff.fn(settings, dt.date(2026, 10, 1)) == dt.date(2026, 10, 1)
    with pytest.raises(ValueError, match=r"2030-01-01 is after the last event in the staged "
                                         r"data \(2026-10-31\)"):
        resolve_cutoff.fn(settings, dt.date(2030, 1, 1))
    assert resolve_cutoff.fn(settings, dt.date(2030, 1, 1), True) == dt.date(2030, 1, 1)


@pytest.mark.parametrize("args, shares", [
    ([], {"Critical": 0.1, "At risk": 0.1, "Watch": 0.1}),
    (["--holdout-share", "0.25"], {"Critical": 0.25, "At risk": 0.25, "Watch": 0.25}),
    (["--holdout-share", "0"], {}),
])
def test_holdout_share_reaches_the_scoring_policy(tmp_path, monkeypatch, args, shares):
    import pipelines.cli as cli
    import pipelines.flows as flows

    seen = {}
    monkeypatch.setattr(flows, "score_flow", lambda root, as_of, params, *rest: seen.setdefault(
        "policy", params.tier_policy))
    monkeypatch.setattr(cli, "print_scoring", lambda result: None)
    (tmp_path / "data").mkdir()
    result = runner.invoke(app, ["score", "--data-dir", str(tmp_path / "data"), *args])
    assert result.exit_code == 0, result.output
    assert seen["policy"].holdout_shares() == shares


def test_a_holdout_share_of_one_is_refused_in_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    result = runner.invoke(app, ["score", "--data-dir", str(tmp_path / "data"),
                                 "--holdout-share", "1"])
    assert result.exit_code == 1 and "invalid option" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, capacity, cooldown", [
    ([], None, 28),
    (["--sort", "saved_value", "--contact-capacity", "200", "--cooldown-days", "14"], 200, 14),
])
def test_contact_capacity_and_cooldown_reach_the_scoring_params(tmp_path, monkeypatch, args,
                                                                capacity, cooldown):
    import pipelines.cli as cli
    import pipelines.flows as flows

    seen = {}
    monkeypatch.setattr(flows, "score_flow", lambda root, as_of, params, *rest: seen.setdefault(
        "params", params))
    monkeypatch.setattr(cli, "print_scoring", lambda result: None)
    (tmp_path / "data").mkdir()
    result = runner.invoke(app, ["score", "--data-dir", str(tmp_path / "data"), *args])
    assert result.exit_code == 0, result.output
    params = seen["params"]
    assert (params.contact_capacity, params.cooldown_days) == (capacity, cooldown)
    assert params.sort == ("saved_value" if args else "tier")



@pytest.mark.parametrize("args, sort, capacity, cooldown", [
    ([], ScoreParams().sort, None, ScoreParams().cooldown_days),  # the model's defaults
    (["--sort", "saved_value", "--contact-capacity", "50", "--cooldown-days", "7"],
     "saved_value", 50, 7),
])
def test_run_takes_the_ordering_options_of_score(tmp_path, monkeypatch, args, sort, capacity,
                                                 cooldown):
    import pipelines.flows as flows
    import pipelines.operate.commands as commands

    seen = {}
    monkeypatch.setattr(flows, "weekly_flow", lambda root, retrain, skip, *, score_params:
                        seen.setdefault("params", score_params))
    monkeypatch.setattr(commands, "print_chain", lambda result: None)
    (tmp_path / "data").mkdir()
    result = runner.invoke(app, ["run", "--data-dir", str(tmp_path / "data"), *args])
    assert result.exit_code == 0, result.output
    params = seen["params"]
    assert (params.sort, params.contact_capacity, params.cooldown_days) == (sort, capacity,
                                                                            cooldown)

    def options(command: str) -> list[str]:
        shown = runner.invoke(app, [command, "--help"], env={"COLUMNS": "250"}).output
        return [" ".join(line.split()) for line in shown.splitlines()
                if any(line.lstrip("│ ").startswith(o + " ")
                       for o in ("--sort", "--contact-capacity", "--cooldown-days"))]

    # one declaration: both commands show the same options, help and defaults
    assert options("run") == options("score") and len(options("run")) == 3


def test_run_refuses_a_contact_capacity_below_one_in_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    result = runner.invoke(app, ["run", "--data-dir", str(tmp_path / "data"),
                                 "--contact-capacity", "0"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "--contact-capacity" in result.output
