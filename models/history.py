"""What the history says: churn rate over time, realized outcomes of past lists, feature drift.

Pure functions over staged purchases and feature frames; the report and the notebook use them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.build import to_naive_utc
from features.labels import LabelSpec, churn_labels

ACTIVE_WINDOW_DAYS = 365


CHURN_RATE_COLUMNS = ["cutoff", "active", "churned", "churn_rate"]


def churn_rate_over_time(
    purchases: pd.DataFrame, spec: LabelSpec, data_end: dt.date, *,
    customers: pd.DataFrame | None = None, step_days: int = 30, n_cutoffs: int = 12,
) -> pd.DataFrame:
    """`cutoff, active, churned, churn_rate` at monthly cutoffs whose label window has ended.

    Active at c: a completed purchase in the 365 days up to c and, with a customer master, not
    cancelled by c. Churned, as `churn_labels` decides it: for `no_purchase`, no completed
    purchase in (c + g, c + g + H] or (with a master) a cancellation in (c, c + g + H]; for
    `cancellation`, a cancellation in (c, c + g + H], which needs a master with `cancelled_at`
    (without one the frame is empty). Only cutoffs with c + g + H <= data_end are shown (no
    censoring), and none earlier than a quarter of the active window after the first
    completed order.
    """
    return joined_churn_rates([churn_counts(purchases, spec, data_end, customers=customers,
                                            step_days=step_days, n_cutoffs=n_cutoffs)])


@dataclass(frozen=True)
class ChurnCounts:
    """`cutoff, active, churned` of one set of customers at every monthly cutoff where any is
    active, and their first completed order (NaT: none). Each count is a sum over customers,
    so customer shards' counts add up to the whole base's (`joined_churn_rates`)."""

    counts: pd.DataFrame
    first_order: pd.Timestamp


def churn_counts(
    purchases: pd.DataFrame, spec: LabelSpec, data_end: dt.date, *,
    customers: pd.DataFrame | None = None, step_days: int = 30, n_cutoffs: int = 12,
) -> ChurnCounts:
    """`ChurnCounts` of the customers of `purchases` (see `churn_rate_over_time`)."""
    columns = ["cutoff", "active", "churned"]
    master = (customers if customers is not None and "cancelled_at" in customers
              and len(customers) else None)
    if spec.definition == "cancellation" and master is None:
        return ChurnCounts(pd.DataFrame(columns=columns), pd.NaT)
    # the two columns read, before the rows (all seven would be copied: +1.2 GB at 20 M)
    done = purchases.loc[purchases["status"] == "completed", ["customer_id", "order_date"]]
    # days as NumPy day numbers: each cutoff compares them twice, and a pandas comparison of
    # 20 M timestamps cost ten times as much
    naive = to_naive_utc(done["order_date"]).dt.normalize()
    first, day = naive.min(), naive.to_numpy("datetime64[D]")
    # customers as integer codes: per cutoff, boolean masks over the customers (Python sets
    # of IDs took seconds per report at tens of thousands of customers)
    codes, ids = pd.factorize(done["customer_id"])
    if master is not None:
        cancel_code = ids.get_indexer(master["customer_id"])
        cancel_day = to_naive_utc(master["cancelled_at"]).dt.normalize()
        # customers who never bought are never active; NaT: never cancelled
        known = (cancel_code >= 0) & cancel_day.notna().to_numpy()
        cancel_code, cancel_day = cancel_code[known], cancel_day[known]
    rows = []
    last_cutoff = pd.Timestamp(spec.last_labelled_cutoff(data_end))
    span = pd.Timedelta(days=spec.span_days)
    # every cutoff, also those too soon after this set's first order: which of them are
    # shown depends on the first order of the whole base (`joined_churn_rates`)
    for k in range(n_cutoffs if not pd.isna(first) else 0):
        cutoff = last_cutoff - pd.Timedelta(days=k * step_days)
        at = np.datetime64(cutoff.date(), "D")
        window = (day > at - ACTIVE_WINDOW_DAYS) & (day <= at)
        active = np.zeros(len(ids), bool)
        active[codes[window]] = True
        churned = np.zeros(len(ids), bool)
        if master is not None:
            gone_before = np.zeros(len(ids), bool)
            gone_before[cancel_code[(cancel_day <= cutoff).to_numpy()]] = True
            active &= ~gone_before  # not a customer any more at c (not eligible for a label)
            in_window = ((cancel_day > cutoff) & (cancel_day <= cutoff + span)).to_numpy()
            churned[cancel_code[in_window]] = True
        if not active.any():
            continue
        if spec.definition == "no_purchase":
            later = (day > at + spec.gap_days) & (day <= at + spec.span_days)
            bought = np.zeros(len(ids), bool)
            bought[codes[later]] = True
            churned |= ~bought
        elif spec.definition == "renewal":
            churned |= _renewal_churn(ids, active, purchases, cutoff.date(), spec)
        rows.append({"cutoff": cutoff, "active": int(active.sum()),
                     "churned": int((active & churned).sum())})
    return ChurnCounts(pd.DataFrame(rows, columns=columns), first)


def joined_churn_rates(parts: Sequence[ChurnCounts]) -> pd.DataFrame:
    """`churn_rate_over_time` from the `ChurnCounts` of disjoint sets of customers (one
    part: that set's own rates). The cutoffs before a quarter of the active window after the
    first order of them all are dropped, as the whole base's would be."""
    firsts = [part.first_order for part in parts if not pd.isna(part.first_order)]
    counts = [part.counts for part in parts if len(part.counts)]
    if not firsts or not counts:
        return pd.DataFrame(columns=CHURN_RATE_COLUMNS)
    frame = pd.concat(counts, ignore_index=True)
    frame = frame[frame["cutoff"] >= min(firsts) + pd.Timedelta(days=ACTIVE_WINDOW_DAYS // 4)]
    frame = frame.groupby("cutoff", as_index=False)[["active", "churned"]].sum()
    frame = frame.astype({"active": int, "churned": int})
    frame["churn_rate"] = frame["churned"] / frame["active"]
    return frame[CHURN_RATE_COLUMNS].sort_values("cutoff").reset_index(drop=True)


def _renewal_churn(ids: pd.Index, active: np.ndarray, purchases: pd.DataFrame,
                   cutoff: dt.date, spec: LabelSpec) -> np.ndarray:
    """Which of `ids` (where `active`) left a renewal due in the window unpaid (the periods
    from their payment cadence: `churn_rate_over_time` reads no subscriptions table)."""
    from features.renewals import billing_months, unpaid_renewal

    who = pd.Series(ids[active], dtype=object)
    months = billing_months(who, purchases, cutoff)
    unpaid = unpaid_renewal(who, purchases, cutoff, spec.window_end(cutoff), months)
    out = np.zeros(len(ids), bool)
    out[np.flatnonzero(active)[unpaid.to_numpy()]] = True
    return out


def realized_outcomes(
    past_list: pd.DataFrame, purchases: pd.DataFrame, as_of: dt.date, spec: LabelSpec,
    data_end: dt.date, customers: pd.DataFrame | None = None,
    subscriptions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A past risk list joined with what happened under `spec`: `churned` (0/1) per customer.

    Raises `CensoredCutoffError` when the list's label window has not ended by `data_end`.
    """
    labels = churn_labels(past_list["customer_id"].astype(str), purchases, as_of, spec,
                          data_end=data_end, customers=customers, subscriptions=subscriptions)
    return past_list.merge(labels, on="customer_id", how="inner", validate="one_to_one")


def calibration_table(probability: np.ndarray, churned: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """`predicted, observed, n` per probability decile (equal-count bins)."""
    frame = pd.DataFrame({"p": probability, "y": churned})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), q=min(bins, len(frame)),
                           labels=False)
    out = frame.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
    return out.reset_index(drop=True)


def lift_table(probability: np.ndarray, churned: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """`decile, churn_rate, lift`: decile 1 holds the highest probabilities."""
    frame = pd.DataFrame({"p": probability, "y": churned})
    order = frame["p"].rank(method="first", ascending=False)
    frame["decile"] = pd.qcut(order, q=min(bins, len(frame)), labels=False) + 1
    base = frame["y"].mean()
    out = frame.groupby("decile").agg(churn_rate=("y", "mean")).reset_index()
    out["lift"] = out["churn_rate"] / base if base > 0 else np.nan
    return out


def population_stability(expected: pd.Series, actual: pd.Series, bins: int = 10) -> float:
    """PSI of `actual` against `expected`, with bins at the quantiles of `expected`."""
    expected, actual = expected.dropna().astype(float), actual.dropna().astype(float)
    if expected.empty or actual.empty:
        return float("nan")
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        return 0.0 if actual.nunique() <= 1 and actual.iloc[0] == edges[0] else float("nan")
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.histogram(expected, edges)[0] / len(expected)
    a = np.histogram(actual, edges)[0] / len(actual)
    e, a = np.clip(e, 1e-4, None), np.clip(a, 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_drift(
    training: pd.DataFrame, current: pd.DataFrame, features: list[str]
) -> pd.DataFrame:
    """`feature, training_median, current_median, psi` for each numeric feature given."""
    rows = []
    for name in features:
        if name not in training or name not in current:
            continue
        if not pd.api.types.is_numeric_dtype(training[name]):
            continue
        rows.append({"feature": name, "training_median": float(training[name].median()),
                     "current_median": float(current[name].median()),
                     "psi": population_stability(training[name], current[name])})
    return pd.DataFrame(rows, columns=["feature", "training_median", "current_median", "psi"])


def main_features(contributions: pd.DataFrame, n: int = 6) -> list[str]:
    """The features with the largest mean |SHAP contribution| in a run."""
    # a column at a time: `abs()` of the whole frame was two copies of a million customers'
    # contributions at the top of a scoring run's memory
    means = pd.Series({column: contributions[column].abs().mean()
                       for column in contributions.columns
                       if column not in ("customer_id", "bias")}, dtype=float)
    return means.sort_values(ascending=False).head(n).index.tolist()
