"""Does the champion still fit the staged data? The differences, and whether it may score.

A model is trained on the features of the sources staged then. Later the data can change
under it: an export is no longer delivered (a whole source gone), a column arrives as another
type, a categorical gets values training never saw. Scoring compares what the model recorded
(its features and their category levels) with the feature table built now:

- features that cannot be computed any more (their source is gone, or a column in it) are
  set to "no data" (missing) when the model can do without them: together they carried at
  most `NoDataPolicy.max_gain_share` of the model's total split gain; otherwise scoring is
  refused with the list of differences;
- a feature whose type changed (numbers where text was, or text where numbers were) refuses;
- new category values score as missing (what `models.matrix.model_matrix` does with a level
  unseen in training), reported with how many customers have one.

Reasons never cite a feature set to "no data" (`models.score.score_customers` leaves its
contributions out of the reason groups).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.catalog import FEATURES_BY_NAME
from features.event_types import is_event_type_feature


class NoDataPolicy(BaseModel):
    """When a champion may score with some of its features set to "no data"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_gain_share: float = Field(
        0.25, ge=0, le=1,
        description="The largest share of the model's total split gain the missing features "
                    "may carry; above it the ranking would rest on data that is not there.")


@dataclass(frozen=True)
class Difference:
    """One way the staged data differs from what the model was trained on."""

    kind: str  # "source_gone" | "features_gone" | "type_changed" | "new_categories"
    subject: str  # the source or feature it is about
    detail: str  # in the product's words, for the terminal and the report
    blocking: bool = False

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail,
                "blocking": self.blocking}


@dataclass(frozen=True)
class Compatibility:
    """The comparison of a model with a feature table, and what scoring does about it."""

    differences: tuple[Difference, ...] = ()
    no_data_features: tuple[str, ...] = ()  # set to missing when scoring goes ahead
    no_data_sources: tuple[str, ...] = ()  # sources wholly gone among them
    no_data_gain_share: float = 0.0
    policy: NoDataPolicy = field(default_factory=NoDataPolicy)

    @property
    def refused(self) -> bool:
        return any(d.blocking for d in self.differences)

    @property
    def status(self) -> str:
        """`compatible`, `scored_with_no_data` (some features set to no data, or new
        categories) or `refused`."""
        if self.refused:
            return "refused"
        return "scored_with_no_data" if self.differences else "compatible"

    def differences_text(self) -> str:
        return "; ".join(d.detail for d in self.differences)

    def with_no_data(self, features: pd.DataFrame) -> pd.DataFrame:
        """The feature table with every "no data" feature present, as missing."""
        absent = [f for f in self.no_data_features if f not in features.columns]
        if not absent:
            return features
        return features.assign(**{f: np.nan for f in absent})

    def record(self) -> dict[str, Any]:
        """What a scoring run's metadata keeps of the comparison."""
        return {"status": self.status, "no_data_sources": list(self.no_data_sources),
                "no_data_features": list(self.no_data_features),
                "no_data_gain_share": round(self.no_data_gain_share, 4),
                "max_gain_share": self.policy.max_gain_share,
                "differences": [d.record() for d in self.differences]}


def source_of(feature: str) -> str:
    """The staged table a model feature is computed from (learned types: interactions)."""
    if feature in FEATURES_BY_NAME:
        return FEATURES_BY_NAME[feature].source
    return "interactions" if is_event_type_feature(feature) else "unknown"


def gain_shares(names: list[str], gains: np.ndarray) -> dict[str, float]:
    """Each feature's share of the model's total split gain (0 for all when there is none)."""
    total = float(np.sum(gains))
    return {n: (float(g) / total if total > 0 else 0.0) for n, g in zip(names, gains,
                                                                         strict=True)}


def model_gain_shares(classifier: Any) -> dict[str, float]:
    """Per feature, its share of a fitted LightGBM classifier's total split gain."""
    booster = classifier.booster_
    return gain_shares(list(booster.feature_name()),
                       np.asarray(booster.feature_importance("gain"), dtype=float))


def compare(
    model_features: list[str], levels: dict[str, list[str]], features: pd.DataFrame,
    available_sources: list[str], shares: dict[str, float],
    policy: NoDataPolicy | None = None,
) -> Compatibility:
    """Compare a model (its features, category levels and gain shares) with the feature
    table built from the staged `available_sources` now."""
    policy = policy or NoDataPolicy()
    differences: list[Difference] = []
    gone = [f for f in model_features if f not in features.columns]
    gone_sources = sorted({source_of(f) for f in gone} - set(available_sources))
    share = sum(shares.get(f, 0.0) for f in gone)
    allowed = share <= policy.max_gain_share
    for source in gone_sources:
        names = [f for f in gone if source_of(f) == source]
        differences.append(Difference(
            "source_gone", source,
            f"the {source} source the model was trained with is no longer staged "
            f"({len(names)} features)", blocking=not allowed))
    partial = [f for f in gone if source_of(f) not in gone_sources]
    if partial:
        shown = ", ".join(partial[:5]) + (f" and {len(partial) - 5} more"
                                          if len(partial) > 5 else "")
        differences.append(Difference(
            "features_gone", ", ".join(partial),
            f"features the model needs can no longer be computed from the staged data "
            f"({shown})", blocking=not allowed))
    for name in model_features:
        if name in features.columns:
            difference = _type_or_levels(name, features[name], levels.get(name))
            if difference is not None:
                differences.append(difference)
    return Compatibility(tuple(differences), tuple(gone), tuple(gone_sources), share, policy)


def _type_or_levels(name: str, column: pd.Series, known: list[str] | None
                    ) -> Difference | None:
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    present = column.dropna()
    if known is None:
        if numeric or present.empty:
            return None
        return Difference("type_changed", name, f"{name} holds text now where the model was "
                          f"trained on numbers (e.g. {present.astype(str).iloc[0]!r})",
                          blocking=True)
    if numeric and not present.empty and not set(present.astype(str)) & set(known):
        return Difference("type_changed", name, f"{name} holds numbers now where the model was "
                          f"trained on the categories {', '.join(known[:5])}", blocking=True)
    unseen = present[~present.astype(str).isin(known)]
    if unseen.empty:
        return None
    values = sorted(unseen.astype(str).unique())
    shown = ", ".join(values[:5]) + (f" and {len(values) - 5} more" if len(values) > 5 else "")
    return Difference("new_categories", name, f"{name} has values training never saw "
                      f"({shown}; {len(unseen)} customers), scored as no data")
