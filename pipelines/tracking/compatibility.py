"""Whether the champion may score the staged data as it is now (`models.compatibility`).

Called by scoring before anything is scored: a refusal is one sentence with the list of
differences and what to run; a champion that can do without a source that is gone scores
with it set to "no data", and the run says so (terminal, metadata, report).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from models.compatibility import Compatibility, NoDataPolicy, compare, model_gain_shares
from pipelines.store.settings import Settings
from pipelines.tracking.registry import RegisteredModel


class ChampionMismatchError(ValueError):
    """The champion's features or sources no longer match the staged data."""


def champion_compatibility(
    champion: RegisteredModel, available: Sequence[str], features: pd.DataFrame,
    policy: NoDataPolicy | None = None,
) -> Compatibility:
    """The comparison of the champion with the feature table built now from the staged
    sources `available` (`SourceTables.available`: the kinds the data has)."""
    model = champion.model
    return compare(model.features, model.levels, features, list(available),
                   model_gain_shares(model.classifier), policy)


def champion_fit(
    settings: Settings, champion: RegisteredModel, available: Sequence[str],
    features: pd.DataFrame, policy: NoDataPolicy | None = None,
) -> Compatibility:
    """`champion_compatibility`, raising `ChampionMismatchError` (saying what differs and
    what to run) when the champion may not score."""
    check = champion_compatibility(champion, available, features, policy)
    if check.refused:
        raise ChampionMismatchError(refusal_text(settings, champion.version, check))
    return check


def refusal_text(settings: Settings, version: str, check: Compatibility) -> str:
    share = f"{check.no_data_gain_share:.0%}"
    without = (f"; what is missing carries {share} of the model's gain, more than the "
               f"{check.policy.max_gain_share:.0%} it may score without"
               if check.no_data_features and check.no_data_gain_share
               > check.policy.max_gain_share else "")
    latest = settings.scored_dir / "latest"
    kept = (f"; {latest} still holds the last list, made with the data as it was"
            if latest.exists() else "")
    return (f"champion version {version} does not fit the staged data: "
            f"{check.differences_text()}{without}; run `churn train` for a model of the data "
            f"as it is now, or restore the export and run `churn ingest`{kept}")


def mismatch_text(check: Compatibility) -> str | None:
    """What a retrain rule reads: the differences, when features are gone or a type changed
    (new categories alone score as no data and need no new model); None otherwise."""
    if check.refused or check.no_data_features:
        return check.differences_text()
    return None


def scored_with_no_data_text(check: Compatibility) -> str:
    """The terminal's line for a run that went ahead despite differences ('' when none)."""
    if not check.differences:
        return ""
    gone = ""
    if check.no_data_features:
        what = ", ".join(check.no_data_sources) or f"{len(check.no_data_features)} features"
        gone = (f"scored with {what} set to no data ({check.no_data_gain_share:.0%} of the "
                "model's gain; no reason cites "
                f"{'it' if len(check.no_data_sources) == 1 else 'them'}): ")
    return f"{gone}{check.differences_text()}; run `churn train` for a model of the data now"
