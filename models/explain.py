"""Per-customer SHAP contributions, grouped into reasons a retention team can act on.

Contributions come from LightGBM's TreeSHAP (`pred_contrib=True`), in log-odds. Related
features are summed into one reason group first, so "recency" and "overdue ratio" never show
up as two reasons; only groups that *raise* risk by at least `MIN_CONTRIBUTION` are kept.
Each kept group becomes a `Reason`: a language-neutral template key with the customer's own
numbers and a comparison (their own history, or the typical customer in the same scoring run).
Nothing here is in a language: `pipelines.deliver.wording` renders the keys in en, tr or nl.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.event_types import is_event_type_feature
from models.reason_rules import SENTENCE_RULES, population_reference, read_by_rules

MIN_CONTRIBUTION = 0.02  # log-odds; below this a push is noise, not a reason
NO_CLEAR_REASON = "none"  # the reason key of a customer with no risk-raising group
REASONS_SHOWN = 3

REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "overdue": (
        "recency_days", "overdue_ratio", "median_interval_days", "interval_std_days",
        "is_one_time_buyer", "tenure_days", "order_silence_surprise",
    ),
    "purchases_falling": (
        "orders_30d", "orders_90d", "orders_180d", "orders_365d", "orders_lifetime",
        "orders_prev_90d", "orders_change_90d", "spend_90d", "spend_365d", "spend_lifetime",
        "spend_prev_90d", "spend_change_90d", "avg_order_value", "spend_30d", "spend_180d",
        "usual_orders_per_30d", "orders_90d_vs_usual", "orders_surprise_30d",
        "orders_surprise_90d",
    ),
    "returns": ("return_share",),
    "complaints": (
        "complaints_30d", "complaints_90d", "complaints_365d", "days_since_last_complaint",
        "open_complaints", "oldest_open_complaint_days", "repeat_complaints_365d",
        "complaint_order_ratio_365d",
        "complaints_90d_delivery", "complaints_90d_product_quality",
        "complaints_90d_billing", "complaints_90d_service", "complaints_90d_returns",
        "complaints_90d_other",
    ),
    "slow_resolution": ("median_resolution_days_365d", "max_resolution_days_365d"),
    "satisfaction": (
        "last_satisfaction", "worst_satisfaction_365d", "rated_bad_not_recovered",
        "unrated_resolved_365d", "nps_detractor", "surveyed_no_answer",
    ),
    "engagement": (
        "interactions_30d", "interactions_90d", "interactions_prev_60d", "engagement_change",
        "days_since_last_interaction", "inbound_share_90d", "inbound_90d", "outbound_90d",
        "email_channel_30d", "web_channel_30d", "app_channel_30d", "phone_channel_30d",
        "email_channel_90d", "web_channel_90d", "app_channel_90d", "phone_channel_90d",
        "email_opens_30d", "email_clicks_30d", "site_visits_30d", "app_sessions_30d",
        "calls_30d", "email_opens_90d", "email_clicks_90d", "site_visits_90d",
        "app_sessions_90d", "calls_90d", "interactions_surprise_30d",
        "interactions_surprise_60d", "interaction_silence_surprise",
    ),
    "unsubscribed": ("unsubscribed",),
    "profile": ("account_age_days", "segment", "region"),
    "subscription": (
        "mrr", "mrr_change_90d", "billing_months", "tenure_periods", "days_to_renewal",
        "payment_failures_90d", "active_subscriptions", "discount_ends_in_days",
    ),
}
GROUP_OF_FEATURE: dict[str, str] = {f: g for g, fs in REASON_GROUPS.items() for f in fs}


def group_of_feature(name: str) -> str | None:
    """The reason group of a feature; learned interaction types are engagement."""
    if name in GROUP_OF_FEATURE:
        return GROUP_OF_FEATURE[name]
    return "engagement" if is_event_type_feature(name) else None


@dataclass(frozen=True)
class Reason:
    """One reason of one customer: its group, template key and the numbers it quotes."""

    group: str
    key: str
    params: dict[str, object] = field(default_factory=dict)


def shap_contributions(classifier, matrix: pd.DataFrame) -> pd.DataFrame:
    """TreeSHAP contributions per feature (log-odds) plus `bias`; rows sum to the raw score."""
    values = classifier.predict(matrix, pred_contrib=True)
    return pd.DataFrame(values, columns=[*matrix.columns, "bias"], index=matrix.index)


def group_contributions(contributions: pd.DataFrame) -> pd.DataFrame:
    """Contributions summed per reason group (columns: groups present in the model)."""
    features = [c for c in contributions.columns if c != "bias"]
    unknown = [f for f in features if group_of_feature(f) is None]
    if unknown:
        raise KeyError(f"features without a reason group: {unknown}")
    by_group = contributions[features].T.groupby(lambda f: group_of_feature(f)).sum().T
    return by_group.reindex(columns=[g for g in REASON_GROUPS if g in by_group.columns])


def top_reason_groups(grouped: pd.DataFrame, k: int = 3) -> list[list[str]]:
    """For each row, up to `k` risk-raising groups, largest contribution first."""
    values = grouped.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    names = np.asarray(grouped.columns)
    return [
        [names[j] for j in row_order if values[i, j] >= MIN_CONTRIBUTION]
        for i, row_order in enumerate(order)
    ]


def customer_reasons(
    features: pd.DataFrame, contributions: pd.DataFrame, k: int = REASONS_SHOWN,
    reference: Mapping[str, float] | None = None,
) -> list[list[Reason]]:
    """Up to `k` reasons per row of `features`; `[Reason("none", "none")]` when none qualifies.

    Comparisons to "the typical customer" use `reference`, by default the medians of the
    customers in `features` (`population_reference`); a shard of a run passes the whole
    run's, so its reasons read as they would unsharded.
    """
    groups = top_reason_groups(group_contributions(contributions), k)
    reference = population_reference(features) if reference is None else reference
    out = []
    for row, chosen in zip(_rule_rows(features), groups, strict=True):
        reasons = [_reason(g, row, reference) for g in chosen]
        out.append(reasons or [Reason(NO_CLEAR_REASON, NO_CLEAR_REASON)])
    return out


def _rule_rows(features: pd.DataFrame) -> Iterator[dict[str, object]]:
    """Each row as the mapping the sentence rules read, as `to_dict("records")` makes it but
    of the columns they read only (`read_by_rules`), and never a date column: no rule reads
    a date (they quote day counts), and boxing each date as a Timestamp was a third of the
    time of a million customers' reasons."""
    columns = [c for c in features.columns if read_by_rules(str(c))
               and not pd.api.types.is_datetime64_any_dtype(features[c])]
    if not columns:
        return ({} for _ in range(len(features)))
    values = zip(*(features[c].tolist() for c in columns), strict=True)  # Python scalars
    return (dict(zip(columns, row, strict=True)) for row in values)


def _reason(group: str, row: Mapping, reference: Mapping[str, float]) -> Reason:
    key, params = SENTENCE_RULES[group](row, reference)
    return Reason(group, key, params)


def reason_columns(
    features: pd.DataFrame, contributions: pd.DataFrame, k: int = REASONS_SHOWN,
    reference: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Per reason slot i = 1..k: `reason_group_i`, `reason_key_i` and `reason_params_i` (the
    numbers the sentence quotes, a dict), aligned with `features`; empty slots have group and
    key "" and no params. A customer with no risk-raising group gets key "none" in slot 1 and
    group "" (it names no group to act on). `reference`: as `customer_reasons` takes it.
    """
    # column lists, not a dict per customer: a million customers' reasons are 9 million cells
    columns: dict[str, list[object]] = {}
    for i in range(k):
        for part in ("group", "key", "params"):
            columns[f"reason_{part}_{i + 1}"] = []
    slots = [(columns[f"reason_group_{i + 1}"], columns[f"reason_key_{i + 1}"],
              columns[f"reason_params_{i + 1}"]) for i in range(k)]
    for reasons in customer_reasons(features, contributions, k, reference):
        for i, (groups, keys, params) in enumerate(slots):
            reason = reasons[i] if i < len(reasons) else None
            groups.append(reason.group if reason and reason.group != NO_CLEAR_REASON else "")
            keys.append(reason.key if reason else "")
            params.append(dict(reason.params) if reason else {})
    return pd.DataFrame(columns, index=features.index)
