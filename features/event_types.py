"""Product events as engagement: interaction types learned from the data, not a fixed list.

The catalog counts the simulator's interaction types by name (`INTERACTION_TYPES`); a real
product logs its own (`post`, `login`, `export_report`, ...). Here the most frequent types
of the interactions seen up to a cutoff are learned at training time (`learn_event_types`),
the rarer ones pooled into "other", and each gets four features:

- `event_<slug>_30d`, `event_<slug>_90d`: events of that type in the last 30 / 90 days;
- `event_<slug>_prev_60d`: events 31-90 days before as_of (the trend's "before");
- `event_<slug>_trend`: (2 x 30d - prev 60d) / their sum, in [-1, 1]: the monthly rate now
  against before, as `engagement_change` does for all interactions (0 when both are 0);
- `event_<slug>_days_since`: days from the last event of that type to as_of (empty: never).

Windows are the N days up to and including as_of, like every catalog window. The type list
is fixed when the model is trained and travels with it (its metadata): scoring computes the
same columns for the same types, so a type that appears later falls into "other" and one that
vanished reads 0. Pure: frames in, frames out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.sources import SourceTables

OTHER_TYPE = "other"
PREFIX = "event_"
_SUFFIXES = ("30d", "90d", "prev_60d", "trend", "days_since")
_SLUG_MAX = 40


def _day_bounds(as_of: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The as_of day (naive UTC) and the first instant after it."""
    day = pd.Timestamp(as_of)
    return day, day + pd.Timedelta(days=1)


def _seen(interactions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """`customer_id, type, day` of the interactions up to the end of as_of (UTC days)."""
    from features.build import to_naive_utc  # the one UTC rule of the feature build

    when = to_naive_utc(interactions["occurred_at"])
    _, cut = _day_bounds(as_of)
    keep = when < cut
    return pd.DataFrame({"customer_id": interactions.loc[keep, "customer_id"].astype(str),
                         "type": interactions.loc[keep, "type"],
                         "day": when[keep].dt.normalize()})


def learn_event_types(interactions: pd.DataFrame, as_of: dt.date, top_n: int) -> list[str]:
    """The `top_n` most frequent interaction types up to as_of (ties by name), then "other"
    when rarer types exist. Empty types never count; `top_n` 0 learns nothing."""
    if top_n <= 0 or interactions is None or "type" not in interactions:
        return []
    types = _seen(interactions, as_of)["type"].dropna().astype(str).str.strip()
    counts = types[types != ""].value_counts()
    if counts.empty:
        return []
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    chosen = [name for name, _ in ranked if name != OTHER_TYPE][:top_n]
    rarer = len(counts) > len(chosen)
    return chosen + ([OTHER_TYPE] if rarer else [])


def event_type_slugs(types: list[str]) -> dict[str, str]:
    """A column-safe name per type (`Page View` -> `page_view`), unique within the list."""
    slugs: dict[str, str] = {}
    used: set[str] = set()
    for kind in types:
        base = re.sub(r"[^0-9a-z]+", "_", kind.lower()).strip("_")[:_SLUG_MAX] or "type"
        slug, n = base, 2
        while slug in used:
            slug, n = f"{base}_{n}", n + 1
        used.add(slug)
        slugs[kind] = slug
    return slugs


def event_type_feature_names(types: list[str]) -> list[str]:
    """The model features of a learned type list, type by type."""
    return [f"{PREFIX}{slug}_{suffix}" for slug in event_type_slugs(types).values()
            for suffix in _SUFFIXES]


def is_event_type_feature(name: str) -> bool:
    return name.startswith(PREFIX) and name.endswith(tuple(f"_{s}" for s in _SUFFIXES))


def event_type_features(
    interactions: pd.DataFrame, as_of: dt.date, types: list[str]
) -> pd.DataFrame:
    """The learned-type features per customer with any interaction up to as_of (index:
    `customer_id`); types outside `types` count as "other" when the list has it."""
    slugs = event_type_slugs(types)
    seen = _seen(interactions, as_of)
    kind = seen["type"].astype("str").str.strip()
    known = kind.isin(list(slugs))
    if OTHER_TYPE in slugs:
        kind = kind.where(known, OTHER_TYPE)
    else:
        seen, kind = seen[known], kind[known]
    day, _ = _day_bounds(as_of)
    age = (day - seen["day"]).dt.days
    # customers as integer codes (first appearance order, as `unique` gives them): each
    # type's counts by bincount, not a groupby per type reindexed onto the text ids
    codes, ids = pd.factorize(seen["customer_id"])
    age_days = age.to_numpy(dtype="float64")
    columns: dict[str, np.ndarray] = {}
    for name, slug in slugs.items():
        mine = (kind == name).to_numpy(dtype=bool)
        of = codes[mine]
        rows = np.bincount(of, minlength=len(ids))
        ages = age_days[mine]
        n30 = np.bincount(of, weights=ages < 30, minlength=len(ids))
        n90 = np.bincount(of, weights=ages < 90, minlength=len(ids))
        since = np.full(len(ids), np.inf)
        np.minimum.at(since, of, ages)
        absent = rows == 0  # no event of this type: empty, as a groupby leaves it
        columns[f"{PREFIX}{slug}_30d"] = np.where(absent, np.nan, n30)
        columns[f"{PREFIX}{slug}_90d"] = np.where(absent, np.nan, n90)
        columns[f"{PREFIX}{slug}_prev_60d"] = np.where(absent, np.nan, n90 - n30)
        columns[f"{PREFIX}{slug}_days_since"] = np.where(absent, np.nan, since)
    out = pd.DataFrame(columns, index=pd.Index(ids, name="customer_id"), dtype="float64")
    for slug in slugs.values():
        now, before = (out[f"{PREFIX}{slug}_30d"].fillna(0),
                       out[f"{PREFIX}{slug}_prev_60d"].fillna(0))
        total = 2 * now + before
        out[f"{PREFIX}{slug}_trend"] = np.where(total > 0, (2 * now - before)
                                                / total.where(total > 0, 1), 0.0)
    return out[event_type_feature_names(types)]


def with_event_type_features(
    features: pd.DataFrame, interactions: pd.DataFrame | None, as_of: dt.date,
    types: list[str],
) -> pd.DataFrame:
    """`features` (one row per customer) with the learned-type columns appended: counts and
    trend 0 for a customer without such events, days-since empty."""
    if not types:
        return features
    names = event_type_feature_names(types)
    if interactions is None or interactions.empty:
        learned = pd.DataFrame(columns=names, dtype="float64")
    else:
        learned = event_type_features(interactions, as_of, types)
    joined = learned.reindex(features["customer_id"].astype(str).to_numpy())
    out = features.copy()
    for name in names:
        values = joined[name].to_numpy(dtype="float64")
        out[name] = values if name.endswith("_days_since") else np.nan_to_num(values)
    return out


def customer_features_with_event_types(
    tables: SourceTables, as_of: dt.date, types: list[str]
) -> pd.DataFrame:
    """The catalog features at as_of (`build_customer_features`) followed by the columns of
    the learned `types`: what a model trained with those types scores on."""
    from features.build import build_customer_features

    return with_event_type_features(build_customer_features(tables, as_of), tables.interactions,
                                    as_of, types)


def fallen_event_type(row: Mapping[str, object]) -> tuple[str, float, float] | None:
    """The learned type whose monthly count fell most, halving at least from two a month:
    `(type as shown, monthly before, last 30 days)`, or None. The shown name is the slug with
    spaces ("page view"); the row holds slugs only."""
    best: tuple[str, float, float] | None = None
    for key, value in row.items():
        if not (isinstance(key, str) and key.startswith(PREFIX) and key.endswith("_prev_60d")):
            continue
        slug = key[len(PREFIX):-len("_prev_60d")]
        now = row.get(f"{PREFIX}{slug}_30d")
        if value is None or now is None or pd.isna(value) or pd.isna(now):
            continue
        before = float(value) / 2  # type: ignore[arg-type]
        current = float(now)  # type: ignore[arg-type]
        if before >= 2 and current * 2 < before and (
                best is None or before - current > best[1] - best[2]):
            best = (slug.replace("_", " "), before, current)
    return best
