"""Per-customer SHAP contributions, grouped into reasons a retention team can act on.

Contributions come from LightGBM's TreeSHAP (`pred_contrib=True`), in log-odds. Related
features are summed into one reason group first, so "recency" and "overdue ratio" never show
up as two reasons; only groups that *raise* risk by at least `MIN_CONTRIBUTION` are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

MIN_CONTRIBUTION = 0.02  # log-odds; below this a push is noise, not a reason
NO_CLEAR_REASON = "No single driver stands out; the risk comes from the overall pattern."

REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "overdue": (
        "recency_days", "overdue_ratio", "median_interval_days", "interval_std_days",
        "is_one_time_buyer", "tenure_days",
    ),
    "purchases_falling": (
        "orders_30d", "orders_90d", "orders_180d", "orders_365d", "orders_lifetime",
        "orders_prev_90d", "orders_change_90d", "spend_90d", "spend_365d", "spend_lifetime",
        "spend_prev_90d", "spend_change_90d", "avg_order_value", "spend_30d", "spend_180d",
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
        "app_sessions_90d", "calls_90d",
    ),
    "unsubscribed": ("unsubscribed",),
    "profile": ("account_age_days", "segment", "region"),
}
GROUP_OF_FEATURE: dict[str, str] = {f: g for g, fs in REASON_GROUPS.items() for f in fs}


def shap_contributions(classifier, matrix: pd.DataFrame) -> pd.DataFrame:
    """TreeSHAP contributions per feature (log-odds) plus `bias`; rows sum to the raw score."""
    values = classifier.predict(matrix, pred_contrib=True)
    return pd.DataFrame(values, columns=[*matrix.columns, "bias"], index=matrix.index)


def group_contributions(contributions: pd.DataFrame) -> pd.DataFrame:
    """Contributions summed per reason group (columns: groups present in the model)."""
    features = [c for c in contributions.columns if c != "bias"]
    unknown = [f for f in features if f not in GROUP_OF_FEATURE]
    if unknown:
        raise KeyError(f"features without a reason group: {unknown}")
    by_group = contributions[features].T.groupby(lambda f: GROUP_OF_FEATURE[f]).sum().T
    return by_group.reindex(columns=[g for g in REASON_GROUPS if g in by_group.columns])


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _plural(n: float, word: str) -> str:
    n = int(round(n))
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _overdue(row: Mapping) -> str:
    recency = _number(row.get("recency_days"))
    interval = _number(row.get("median_interval_days"))
    if recency is None:
        return "Has not bought recently."
    if row.get("is_one_time_buyer") == 1:
        return f"Bought only once, {int(recency)} days ago."
    if interval is not None:
        return (f"No purchase for {int(recency)} days; usually buys every "
                f"{max(1, int(round(interval)))} days.")
    return f"No purchase for {int(recency)} days."


def _purchases_falling(row: Mapping) -> str:
    spend, spend_prev = _number(row.get("spend_90d")), _number(row.get("spend_prev_90d"))
    orders, orders_prev = _number(row.get("orders_90d")), _number(row.get("orders_prev_90d"))
    if spend is not None and spend_prev and spend < spend_prev:
        drop = round(100 * (1 - spend / spend_prev))
        return f"Spending in the last 90 days is down {drop}% on the previous 90 days."
    if orders is not None and orders_prev is not None and orders < orders_prev:
        return (f"{_plural(orders, 'order')} in the last 90 days, against "
                f"{int(orders_prev)} in the 90 days before.")
    orders_year = _number(row.get("orders_365d"))
    if orders_year == 0:
        lifetime = _number(row.get("orders_lifetime")) or 0.0
        return f"No orders in the last 12 months, after {_plural(lifetime, 'order')} before."
    if orders_year is not None:
        return f"Only {_plural(orders_year, 'order')} in the last 12 months."
    return "Buys less than similar customers."


def _returns(row: Mapping) -> str:
    share = _number(row.get("return_share")) or 0.0
    return f"Returned {round(100 * share)}% of orders."


def _complaints(row: Mapping) -> str:
    recent = _number(row.get("complaints_90d")) or 0.0
    open_now = _number(row.get("open_complaints")) or 0.0
    oldest = _number(row.get("oldest_open_complaint_days"))
    repeat = _number(row.get("repeat_complaints_365d")) or 0.0
    parts = []
    if recent:
        parts.append(f"{_plural(recent, 'complaint')} in the last 90 days")
    if open_now and oldest is not None:
        parts.append(f"{int(open_now)} still open, the oldest for {int(oldest)} days")
    if repeat and not parts:
        parts.append("complained again within 14 days of a previous complaint")
    if not parts:
        year = _number(row.get("complaints_365d")) or 0.0
        if year:
            return f"{_plural(year, 'complaint')} in the last 12 months."
        return "Complaint history raises the risk."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _slow_resolution(row: Mapping) -> str:
    worst = _number(row.get("max_resolution_days_365d"))
    if worst is not None:
        return f"Complaints took up to {round(worst)} days to resolve in the last 12 months."
    return "Complaints were slow to be resolved."


def _satisfaction(row: Mapping) -> str:
    last = _number(row.get("last_satisfaction"))
    if last is None:
        unrated = _number(row.get("unrated_resolved_365d")) or 0.0
        return (f"Left {_plural(unrated, 'resolved complaint')} unrated." if unrated
                else "No satisfaction rating on record.")
    stars = int(round(1 + 4 * last))
    text = f"Rated the last support contact {stars}/5"
    if row.get("rated_bad_not_recovered") == 1:
        text += " and has not ordered since"
    return text + "."


def _engagement(row: Mapping) -> str:
    now, before = _number(row.get("interactions_30d")), _number(row.get("interactions_prev_60d"))
    silent = _number(row.get("days_since_last_interaction"))
    if now is not None and before and now * 2 < before:
        return (f"Engagement is fading: {_plural(now, 'interaction')} in the last 30 days "
                f"against {int(before)} in the 60 days before.")
    if silent is not None and silent > 30:
        return f"No contact with us for {int(silent)} days."
    if silent is None:
        return "No recorded interactions (emails, visits, app use)."
    return "Engages less than similar customers."


def _unsubscribed(_row: Mapping) -> str:
    return "Unsubscribed from the newsletter."


def _profile(row: Mapping) -> str:
    age = _number(row.get("account_age_days"))
    if age is not None and age < 180:
        return f"New customer: signed up {int(age)} days ago."
    segment = row.get("segment")
    if isinstance(segment, str):
        return f"Customers in the {segment} segment leave more often."
    return "Profile resembles customers who left."


SENTENCES: dict[str, Callable[[Mapping], str]] = {
    "overdue": _overdue,
    "purchases_falling": _purchases_falling,
    "returns": _returns,
    "complaints": _complaints,
    "slow_resolution": _slow_resolution,
    "satisfaction": _satisfaction,
    "engagement": _engagement,
    "unsubscribed": _unsubscribed,
    "profile": _profile,
}


def top_reason_groups(grouped: pd.DataFrame, k: int = 3) -> list[list[str]]:
    """For each row, up to `k` risk-raising groups, largest contribution first."""
    values = grouped.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    names = np.asarray(grouped.columns)
    return [
        [names[j] for j in row_order if values[i, j] >= MIN_CONTRIBUTION]
        for i, row_order in enumerate(order)
    ]


def reason_sentences(
    features: pd.DataFrame, contributions: pd.DataFrame, k: int = 3
) -> pd.DataFrame:
    """`reason_1..k` sentences and `reason_group_1..k` keys, aligned with `features` rows."""
    grouped = group_contributions(contributions)
    groups = top_reason_groups(grouped, k)
    records = []
    for row, chosen in zip(features.to_dict("records"), groups, strict=True):
        texts = [SENTENCES[g](row) for g in chosen] or [NO_CLEAR_REASON]
        record = {}
        for i in range(k):
            record[f"reason_{i + 1}"] = texts[i] if i < len(texts) else ""
            record[f"reason_group_{i + 1}"] = chosen[i] if i < len(chosen) else ""
        records.append(record)
    return pd.DataFrame(records, index=features.index)
