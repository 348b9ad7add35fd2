"""Scoring's check of the champion against the staged data: refusal and warning sentences."""

from __future__ import annotations

import pytest

from models.compatibility import NoDataPolicy, model_gain_shares, source_of
from pipelines.operate.failures import failure_message
from pipelines.store.settings import Settings
from pipelines.tracking.compatibility import (
    ChampionMismatchError,
    champion_fit,
    mismatch_text,
    scored_with_no_data_text,
)
from pipelines.tracking.registry import RegisteredModel


def Staged(*present: str) -> tuple[str, ...]:  # noqa: N802 - reads as the staged data
    """What the check reads of the staged tables: which of them exist."""
    return present


@pytest.fixture(scope="module")
def champion(fitted):
    return RegisteredModel(fitted, "4", "run-4", {})


@pytest.fixture(scope="module")
def without_complaints(model_input, fitted):
    frame = model_input[model_input["cutoff"] == model_input["cutoff"].max()]
    return frame.drop(columns=[f for f in fitted.features if source_of(f) == "complaints"])


def test_a_refusal_lists_the_differences_says_what_to_run_and_keeps_the_last_list(
        tmp_path, champion, without_complaints, fitted):
    settings = Settings.from_env(tmp_path)
    (settings.scored_dir / "latest").mkdir(parents=True)
    with pytest.raises(ChampionMismatchError) as refused:
        champion_fit(settings, champion, Staged("purchases", "interactions", "customers"),
                     without_complaints, NoDataPolicy(max_gain_share=0.0))
    share = sum(model_gain_shares(fitted.classifier)[f] for f in fitted.features
                if source_of(f) == "complaints")
    gone = len([f for f in fitted.features if f not in without_complaints])
    message = failure_message("score", refused.value)
    assert message == (
        "score failed: champion version 4 does not fit the staged data: the complaints source "
        f"the model was trained with is no longer staged ({gone} features); what is "
        f"missing carries {share:.0%} of the model's gain, more than the 0% it may score "
        "without; run `churn train` for a model of the data as it is now, or restore the "
        f"export and run `churn ingest`; {settings.scored_dir / 'latest'} still holds the last "
        "list, made with the data as it was")


def test_going_ahead_without_a_source_says_so_and_asks_for_a_retrain(
        tmp_path, champion, without_complaints):
    check = champion_fit(Settings.from_env(tmp_path), champion,
                         Staged("purchases", "interactions", "customers"), without_complaints,
                         NoDataPolicy(max_gain_share=1.0))
    text = scored_with_no_data_text(check)
    assert text.startswith(f"scored with complaints set to no data "
                           f"({check.no_data_gain_share:.0%} of the model's gain; no reason "
                           "cites it): the complaints source")
    assert text.endswith("run `churn train` for a model of the data now")
    assert mismatch_text(check) == check.differences_text()  # the chain retrains


def test_matching_data_say_nothing(tmp_path, champion, model_input):
    frame = model_input[model_input["cutoff"] == model_input["cutoff"].max()]
    check = champion_fit(Settings.from_env(tmp_path), champion,
                         Staged("purchases", "complaints", "interactions", "customers"), frame)
    assert scored_with_no_data_text(check) == "" and mismatch_text(check) is None
