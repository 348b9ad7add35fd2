"""The `churn` command line: help for every command, clear errors without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()
COMMANDS = ["generate", "ingest", "features", "train", "score", "demo", "run", "serve"]


def test_top_level_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_the_data_dir_option(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--data-dir" in result.output


def test_run_help_says_what_the_chain_does_and_when_it_trains():
    shown = " ".join(runner.invoke(app, ["run", "--help"], terminal_width=200).output.split())
    for words in ("ingest → train if due → score", "no champion model yet", "--retrain",
                  "promotion gate", "one run per data dir", "churn-weekly"):
        assert words in shown


@pytest.mark.flow
def test_ingest_problem_is_one_clear_line_and_exit_code_1(tmp_path):
    """As a user runs it: a real `churn` process with its own embedded Prefect."""
    bad = tmp_path / "data" / "raw" / "purchases"
    bad.mkdir(parents=True)
    (bad / "export.csv").write_text("klant;datum\n1;2024-01-01\n")
    churn = Path(sys.executable).parent / "churn"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    try:
        done = subprocess.run([str(churn), "ingest", "--data-dir", str(tmp_path / "data")],
                              capture_output=True, text=True, env=env, timeout=300)
    finally:  # the command leaves the data dir's local Prefect API running for the next one
        from pipelines.operate.local_api import stop_local_api

        stop_local_api(tmp_path / "data" / ".prefect")
    assert done.returncode == 1
    output = " ".join((done.stdout + done.stderr).split())
    assert "purchases/export.csv: missing required column(s) customer_id, order_id" in output
    assert "(found: klant, datum)" in output
    assert "Traceback" not in output


@pytest.mark.flow
def test_score_without_a_model_says_what_to_do(prefect_api, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    raw = tmp_path / "data" / "raw" / "purchases"
    raw.mkdir(parents=True)
    (raw / "orders.csv").write_text("customer_id,order_id,order_date,amount\n1,A,2024-01-01,5\n")
    assert runner.invoke(app, ["ingest", "--data-dir", str(tmp_path / "data")]).exit_code == 0
    result = runner.invoke(app, ["score", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1
    assert "run `churn train` first" in " ".join(result.output.split())


def test_train_refuses_an_unknown_churn_definition_and_shows_the_label_defaults(tmp_path):
    result = runner.invoke(app, ["train", "--data-dir", str(tmp_path / "data"),
                                 "--churn-definition", "lapsed"])
    assert result.exit_code == 1
    assert ("--churn-definition must be auto, no_purchase, cancellation or renewal, not "
            "'lapsed'") in " ".join(result.output.split())
    shown = " ".join(runner.invoke(app, ["train", "--help"]).output.split())
    # left out, the definition follows the data (features.billing)
    assert "[default: 90]" in shown and "[default: auto]" in shown


def test_option_defaults_are_the_typed_models_defaults():
    from models.params import TrainParams, TuningParams
    from models.promotion import PromotionMargin
    from pipelines.deliver.params import ScoreParams

    train = " ".join(runner.invoke(app, ["train", "--help"], terminal_width=200).output.split())
    for shown in (TrainParams().n_cutoffs, TrainParams().min_positives,
                  PromotionMargin().min_roc_auc_gain, TuningParams().objective):
        assert f"[default: {shown}]" in train
    assert "--data-end" in train and "--as-of" in train  # the old name still works
    score = " ".join(runner.invoke(app, ["score", "--help"], terminal_width=200).output.split())
    assert f"[default: {ScoreParams().sort}]" in score and "[default: en]" in score


# Each enum-like option: the command, the option, its allowed values (from the declaring type).
CHOICE_OPTIONS = [
    ("score", "--sort", "tier|value|probability|saved_value"), ("score", "--lang", "en|tr|nl"),
    ("run", "--sort", "tier|value|probability|saved_value"), ("run", "--lang", "en|tr|nl"),
    ("demo", "--lang", "en|tr|nl"), ("analyze", "--lang", "en|tr|nl"),
    ("analyze", "--period", "month|quarter"),
    ("train", "--churn-definition", "auto|no_purchase|cancellation|renewal"),
    ("train", "--tune-objective", "pr_auc|log_loss"),
]


@pytest.mark.parametrize("command, option, allowed", CHOICE_OPTIONS,
                         ids=[f"{c}{o}" for c, o, _ in CHOICE_OPTIONS])
def test_help_shows_the_allowed_values_and_a_bad_one_is_refused_before_anything(
        tmp_path, command, option, allowed):
    help_text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "250"}).output
    line = next(text for text in help_text.splitlines() if f" {option} " in text)
    assert allowed in line
    missing = tmp_path / "no-such-dir"  # the option is checked before the data dir
    result = runner.invoke(app, [command, "--data-dir", str(missing), option, "bogus"])
    assert result.exit_code == 1
    values = allowed.split("|")
    expected = (f"{command} failed: {option} must be {', '.join(values[:-1])} or "
                f"{values[-1]}, not 'bogus'")
    assert " ".join(result.output.split()) == expected
    assert not missing.exists()


@pytest.mark.parametrize("args, sentence", [
    (["score", "--as-of", "2026-13-01"],
     "score failed: --as-of must be a date YYYY-MM-DD, not '2026-13-01'; see `churn score --help`"),
    (["train", "--horizon-days", "3"],
     "train failed: --horizon-days must be at least 7, not 3; see `churn train --help`"),
    (["generate", "--customers", "many"],
     "generate failed: --customers must be a whole number, not 'many'; see "
     "`churn generate --help`"),
    (["score", "--contact-capacity", "0"],
     "score failed: --contact-capacity must be at least 1, not 0; see `churn score --help`"),
    (["train", "--min-roc-auc-gain", "x"],
     "train failed: --min-roc-auc-gain must be a number, not 'x'; see `churn train --help`"),
    (["score", "--forse"],
     "score failed: there is no option --forse (did you mean --force or --sort?); see "
     "`churn score --help`"),
    (["promote"], "promote failed: VERSION is missing; see `churn promote --help`"),
    (["scroe"], "churn failed: no such command 'scroe' (did you mean 'score'?); see "
                "`churn --help`"),
], ids=["date", "range", "capacity", "integer", "number", "unknown-option", "missing-argument",
        "unknown-command"])
def test_a_refused_command_line_is_one_sentence_in_the_products_words(args, sentence):
    import typer
    from typer.exceptions import TyperException

    from pipelines.cli_common import usage_sentence

    with pytest.raises(TyperException) as refused:
        typer.main.get_command(app).main(args, prog_name="churn", standalone_mode=False)
    assert usage_sentence(refused.value) == sentence


def test_the_churn_process_prints_that_sentence_and_exits_1(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "score", "--as-of", "31-10-2026"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == ("score failed: --as-of must be a date YYYY-MM-DD, not "
                                   "'31-10-2026'; see `churn score --help`")
    assert done.stdout == ""
