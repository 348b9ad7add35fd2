"""Is the scored population still the one the model was trained on? PSI, missing values,
unseen categories, population size and label rate against a reference profile.

The reference profile is plain JSON (bin edges and shares per feature and of the score),
made once from the model's out-of-time validation customers when it is trained and stored with
the model, so scoring never needs the training snapshot. Every threshold lives in
`MonitoringPolicy`; the retrain rules (`models.retrain`) read the same policy.

PSI = sum over bins of (a - e) * ln(a / e), with a the current and e the reference share of a
bin, both floored at `SHARE_FLOOR` so an empty bin counts as rare, not impossible. Missing
values are one more bin, and so are categories the reference never saw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

SHARE_FLOOR = 1e-4
MISSING = "__missing__"
UNSEEN = "__unseen__"


class MonitoringPolicy(BaseModel):
    """Thresholds of monitoring, alerts and the retrain rules; the only place they are declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    psi_bins: int = Field(10, ge=2, description="Quantile bins of a numeric feature's reference.")
    psi_drift: float = Field(0.2, gt=0, description="PSI at or above this is drift.")
    drifted_feature_share: float = Field(
        0.25, gt=0, le=1, description="Retrain (and alert) when at least this share of the "
        "features drifts; a drifting score alone is enough.")
    missing_share_increase: float = Field(
        0.10, ge=0, le=1, description="A feature whose missing share grew by more than this "
        "(absolute) is flagged.")
    min_population_ratio: float = Field(
        0.5, ge=0, le=1, description="A list with fewer customers than this share of the "
        "training population is suspiciously small.")
    min_realised_roc_auc: float = Field(
        0.65, ge=0, le=1, description="Retrain when the latest matured list of the champion "
        "ranked worse than this.")
    max_data_growth: float = Field(
        1.5, gt=1, description="Retrain when customers or events grew by this factor since "
        "the data the model saw.")
    max_model_age_days: int = Field(
        180, ge=1, description="Retrain when the model's training data ended more than this "
        "many days before the scoring date.")
    retry_after_days: int = Field(
        28, ge=1, description="After a version trained after the champion did not become "
        "champion, the drift, track-record, growth and age rules ask again only once the data "
        "end has moved this many days past that version's, or the data grew by "
        "max_data_growth past what it saw.")


def numeric_edges(values: pd.Series, bins: int) -> list[float]:
    """Interior bin edges at the quantiles of the non-missing `values` (duplicates merged)."""
    present = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    if present.empty:
        return []
    inner = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(e) for e in np.unique(inner)]


def numeric_shares(values: pd.Series, edges: list[float]) -> list[float]:
    """Shares of all rows per bin (-inf, e1], (e1, e2], ..., (ek, inf), then missing."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    if len(numbers) == 0:
        return [0.0] * (len(edges) + 2)
    missing = np.isnan(numbers)
    index = np.searchsorted(np.asarray(edges, float), numbers[~missing], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(float)
    return [float(c) for c in counts / len(numbers)] + [float(missing.mean())]


def categorical_shares(values: pd.Series) -> dict[str, float]:
    """Share of all rows per level, missing values under `MISSING`."""
    if len(values) == 0:
        return {}
    text = values.astype(object).where(values.notna(), MISSING).astype(str)
    return {str(k): float(v) for k, v in text.value_counts(normalize=True).items()}


def psi(expected: list[float] | np.ndarray, actual: list[float] | np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, float), SHARE_FLOOR, None)
    a = np.clip(np.asarray(actual, float), SHARE_FLOOR, None)
    if e.shape != a.shape:
        raise ValueError(f"share vectors differ in length: {e.shape} vs {a.shape}")
    return float(np.sum((a - e) * np.log(a / e)))


def _is_categorical(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


def column_profile(values: pd.Series, bins: int) -> dict[str, Any]:
    """What PSI needs of one reference column: its kind, edges or levels, shares, missing."""
    if _is_categorical(values):
        levels = categorical_shares(values)
        return {"kind": "categorical", "shares": levels,
                "missing_share": levels.get(MISSING, 0.0)}
    edges = numeric_edges(values, bins)
    shares = numeric_shares(values.astype(float) if pd.api.types.is_bool_dtype(values)
                            else values, edges)
    return {"kind": "numeric", "edges": edges, "shares": shares, "missing_share": shares[-1]}


def reference_profile(
    features: pd.DataFrame, names: list[str], score: np.ndarray, *, label_rate: float,
    cutoff: str, volume: dict[str, int] | None = None, bins: int | None = None,
) -> dict[str, Any]:
    """The training population as JSON: per feature and of the score (see the module doc)."""
    bins = bins or MonitoringPolicy().psi_bins
    return {
        "cutoff": cutoff, "population": len(features), "label_rate": float(label_rate),
        "bins": bins, "volume": volume or {},
        "features": {n: column_profile(features[n], bins) for n in names if n in features},
        "score": column_profile(pd.Series(np.asarray(score, float)), bins),
    }


def compare_column(reference: dict[str, Any], values: pd.Series) -> dict[str, Any]:
    """`psi, missing_training, missing_current, unseen, unseen_share` of one column."""
    if reference["kind"] == "numeric":
        current = numeric_shares(values.astype(float) if pd.api.types.is_bool_dtype(values)
                                 else values, reference["edges"])
        return {"psi": psi(reference["shares"], current) if len(values) else float("nan"),
                "missing_training": reference["missing_share"],
                "missing_current": current[-1], "unseen": [], "unseen_share": 0.0}
    # missing is a level of every reference, even one that had none: never an unseen category
    expected: dict[str, float] = {MISSING: 0.0, **reference["shares"]}
    actual = categorical_shares(values)
    unseen = sorted(level for level in actual if level not in expected)
    levels = list(expected) + [UNSEEN]
    a = [actual.get(level, 0.0) for level in expected] + [sum(actual[u] for u in unseen)]
    e = [expected[level] for level in expected] + [0.0]
    return {"psi": psi(e, a) if len(values) else float("nan"),
            "missing_training": reference["missing_share"],
            "missing_current": actual.get(MISSING, 0.0), "unseen": unseen,
            "unseen_share": a[levels.index(UNSEEN)]}


MONITORING_COLUMNS = ["feature", "kind", "psi", "drifted", "missing_training",
                      "missing_current", "missing_flagged", "unseen", "unseen_share"]


def feature_monitoring(
    reference: dict[str, Any], current: pd.DataFrame, policy: MonitoringPolicy
) -> pd.DataFrame:
    """One row per reference feature present now (`MONITORING_COLUMNS`), largest PSI first."""
    rows = []
    for name, profile in reference["features"].items():
        if name not in current:
            continue
        compared = compare_column(profile, current[name])
        rows.append({
            "feature": name, "kind": profile["kind"], **compared,
            "unseen": ", ".join(compared["unseen"]),
            "drifted": bool(compared["psi"] >= policy.psi_drift),
            "missing_flagged": bool(compared["missing_current"] - compared["missing_training"]
                                    > policy.missing_share_increase),
        })
    frame = pd.DataFrame(rows, columns=MONITORING_COLUMNS)
    return frame.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


def monitoring_summary(
    reference: dict[str, Any], features: pd.DataFrame, score: np.ndarray,
    policy: MonitoringPolicy, *, latest_label_rate: float | None = None,
    latest_matured_cutoff: str | None = None,
) -> dict[str, Any]:
    """The verdict of one scoring run against the reference (JSON), with the per-feature
    table under `features` (records)."""
    table = feature_monitoring(reference, features, policy)
    score_psi = compare_column(reference["score"], pd.Series(np.asarray(score, float)))["psi"]
    drifted = table.loc[table["drifted"], "feature"].tolist()
    share = len(drifted) / len(table) if len(table) else 0.0
    population = int(reference.get("population") or 0)
    ratio = len(features) / population if population else float("nan")
    return {
        "reference_cutoff": reference.get("cutoff"),
        "psi_threshold": policy.psi_drift,
        "score_psi": score_psi, "score_drifted": bool(score_psi >= policy.psi_drift),
        "drifted_features": drifted, "drifted_share": share,
        "missing_flagged": table.loc[table["missing_flagged"], "feature"].tolist(),
        "unseen_categories": {r.feature: r.unseen for r in table.itertuples() if r.unseen},
        "population_training": population, "population_current": len(features),
        "population_ratio": ratio,
        "small_list": bool(population and ratio < policy.min_population_ratio),
        "label_rate_training": reference.get("label_rate"),
        "label_rate_latest": latest_label_rate, "latest_matured_cutoff": latest_matured_cutoff,
        "drift": bool(score_psi >= policy.psi_drift or share >= policy.drifted_feature_share),
        "features": table.to_dict(orient="records"),
    }


def data_volume(customers: int, events: int) -> dict[str, int]:
    """What "the data the model saw" is measured in (the growth rule compares two of these)."""
    return {"customers": int(customers), "events": int(events)}
