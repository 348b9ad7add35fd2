"""Which sentence each reason group says for one customer, and the numbers it quotes.

Each rule returns a template key (rendered by `pipelines.deliver.wording`) and its parameters:
the customer's own numbers plus a comparison, with their own history where the features hold
one (usual interval, the previous 90 days) and otherwise with the typical customer of the same
scoring run (`population_reference`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.event_types import fallen_event_type, is_event_type_feature


@dataclass(frozen=True)
class Count:
    """A number followed by its noun ("3 orders", "3 sipariş", "3 bestellingen"); the noun is
    a catalog key, so each language renders its own singular and plural."""

    n: float
    noun: str


Rule = Callable[[Mapping, Mapping[str, float]], tuple[str, dict[str, object]]]

#: The feature columns the rules below read (`row.get`), besides the learned event types'
#: (`fallen_event_type`); a test reads this module's source and holds every `row.get` to it.
#: A customer's row is built of these only: all 80-odd columns per row was half the time of
#: a million customers' reasons.
RULE_COLUMNS = frozenset({
    "account_age_days", "complaints_365d", "complaints_90d", "days_since_last_interaction",
    "days_to_renewal", "discount_ends_in_days", "interactions_30d", "interactions_prev_60d",
    "is_one_time_buyer", "last_satisfaction", "max_resolution_days_365d",
    "median_interval_days", "mrr_change_90d", "oldest_open_complaint_days", "open_complaints",
    "orders_365d", "orders_90d", "orders_lifetime", "orders_prev_90d", "payment_failures_90d",
    "rated_bad_not_recovered", "recency_days", "repeat_complaints_365d", "return_share",
    "segment", "spend_90d", "spend_prev_90d", "unrated_resolved_365d",
})


def read_by_rules(column: str) -> bool:
    """Whether a sentence rule may read feature `column`."""
    return column in RULE_COLUMNS or is_event_type_feature(column)

# Reference medians of the scored population, quoted as "the typical customer".
_MEDIANS = {
    "interval": "median_interval_days",
    "orders_365d": "orders_365d",
    "resolution": "median_resolution_days_365d",
    "satisfaction": "last_satisfaction",
    "silence": "days_since_last_interaction",
}


def population_reference(features: pd.DataFrame) -> dict[str, float]:
    """Medians (and the mean return share) of the scored customers; absent columns omitted."""
    reference: dict[str, float] = {}
    for name, column in _MEDIANS.items():
        if column in features and features[column].notna().any():
            reference[name] = float(features[column].median())
    if "return_share" in features and features["return_share"].notna().any():
        reference["return_share"] = float(features["return_share"].mean())
    return reference


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _int(value: float) -> int:
    return int(round(value))


def _stars(score: float) -> int:
    return _int(1 + 4 * score)


def overdue(row: Mapping, ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    recency = _number(row.get("recency_days"))
    interval = _number(row.get("median_interval_days"))
    typical = ref.get("interval")
    if recency is None:
        return "overdue.none", {}
    days = _int(recency)
    if row.get("is_one_time_buyer") == 1:
        if typical is not None:
            return "overdue.one_time", {"days": days, "typical": max(1, _int(typical))}
        return "overdue.one_time_plain", {"days": days}
    if interval is not None:
        return "overdue.interval", {"days": days, "interval": max(1, _int(interval))}
    if typical is not None:
        return "overdue.vs_typical", {"days": days, "typical": max(1, _int(typical))}
    return "overdue.plain", {"days": days}


def purchases_falling(row: Mapping, ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    spend, spend_prev = _number(row.get("spend_90d")), _number(row.get("spend_prev_90d"))
    orders, orders_prev = _number(row.get("orders_90d")), _number(row.get("orders_prev_90d"))
    if spend is not None and spend_prev and spend_prev > 0 and spend <= 0:
        return "falling.spend_stopped", {"amount": _int(spend_prev)}
    if spend is not None and spend_prev and spend < spend_prev:
        return "falling.spend", {"pct": _int(100 * (1 - spend / spend_prev))}
    if orders is not None and orders_prev is not None and orders < orders_prev:
        return "falling.orders", {"orders_now": Count(orders, "order"),
                                  "orders_before": Count(orders_prev, "order")}
    orders_year = _number(row.get("orders_365d"))
    if orders_year == 0:
        lifetime = _number(row.get("orders_lifetime")) or 0.0
        return "falling.none_year", {"orders": Count(lifetime, "order")}
    typical = ref.get("orders_365d")
    if orders_year is not None and typical is not None and orders_year < typical:
        return "falling.few_year", {"orders": Count(orders_year, "order"), "typical": _int(typical)}
    return "falling.generic", {}


def returns(row: Mapping, ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    share = _number(row.get("return_share")) or 0.0
    return "returns.share", {"pct": _int(100 * share),
                             "typical": _int(100 * ref.get("return_share", 0.0))}


def complaints(row: Mapping, _ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    recent = _number(row.get("complaints_90d")) or 0.0
    year = _number(row.get("complaints_365d")) or 0.0
    open_now = _number(row.get("open_complaints")) or 0.0
    oldest = _number(row.get("oldest_open_complaint_days"))
    if recent > 1 and open_now and oldest is not None:
        if open_now == 1:
            return "complaints.recent_open_single", {"complaints": Count(recent, "complaint"),
                                                     "days": _int(oldest)}
        return "complaints.recent_open", {"complaints": Count(recent, "complaint"),
                                          "open": _int(open_now), "days": _int(oldest)}
    if open_now == 1 and oldest is not None:
        return "complaints.open_single", {"days": _int(oldest)}
    if open_now and oldest is not None:
        return "complaints.open", {"open": Count(open_now, "complaint"), "days": _int(oldest)}
    if recent:
        return "complaints.recent", {"complaints": Count(recent, "complaint"),
                                     "before": _int(max(year - recent, 0))}
    if _number(row.get("repeat_complaints_365d")):
        return "complaints.repeat", {}
    if year:
        return "complaints.year", {"complaints": Count(year, "complaint")}
    return "complaints.generic", {}


def slow_resolution(row: Mapping, ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    worst = _number(row.get("max_resolution_days_365d"))
    typical = ref.get("resolution")
    if worst is not None and typical is not None:
        return "slow.max", {"days": _int(worst), "typical": _int(typical)}
    return "slow.generic", {}


def satisfaction(row: Mapping, ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    last = _number(row.get("last_satisfaction"))
    if last is None:
        unrated = _number(row.get("unrated_resolved_365d")) or 0.0
        if unrated:
            return "satisfaction.unrated", {"complaints": Count(unrated, "complaint")}
        return "satisfaction.none", {}
    if row.get("rated_bad_not_recovered") == 1:
        return "satisfaction.bad_not_recovered", {"stars": _stars(last)}
    typical = ref.get("satisfaction", last)
    return "satisfaction.rated", {"stars": _stars(last), "typical": _stars(typical)}


def engagement(row: Mapping, ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    # A learned product event that collapsed says more than the total of all interactions.
    fallen = fallen_event_type(row)
    if fallen is not None:
        kind, monthly_before, now_30d = fallen
        return "engagement.type_fell", {"type": kind, "before": _int(monthly_before),
                                        "now": _int(now_30d)}
    now, before = _number(row.get("interactions_30d")), _number(row.get("interactions_prev_60d"))
    silent = _number(row.get("days_since_last_interaction"))
    if now is not None and before and now * 2 < before:
        return "engagement.fading", {"now": Count(now, "interaction"),
                                     "before": Count(before, "interaction")}
    typical = ref.get("silence")
    if silent is not None and typical is not None and silent > max(30.0, typical):
        return "engagement.silent", {"days": _int(silent), "typical": _int(typical)}
    if silent is None:
        return "engagement.none", {}
    return "engagement.generic", {}


def unsubscribed(_row: Mapping, _ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    return "unsubscribed.newsletter", {}


def profile(row: Mapping, _ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    age = _number(row.get("account_age_days"))
    if age is not None and age < 180:
        return "profile.new", {"days": _int(age)}
    segment = row.get("segment")
    if isinstance(segment, str):
        return "profile.segment", {"segment": segment}
    return "profile.generic", {}


def subscription(row: Mapping, _ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    """The most concrete subscription fact: failed payments, an overdue renewal, a shrinking
    plan, a discount that ends (or just ended)."""
    failures = _number(row.get("payment_failures_90d")) or 0
    if failures >= 1:
        return "subscription.failed", {"failures": Count(failures, "payment")}
    overdue = _number(row.get("days_to_renewal"))
    if overdue is not None and overdue < 0:
        return "subscription.overdue", {"days": _int(-overdue)}
    change = _number(row.get("mrr_change_90d")) or 0
    if change < -0.05:  # (now - before) / (now + before) -> the fall as a share of before
        return "subscription.downgraded", {"percent": _int(100 * 2 * -change / (1 - change))}
    ends = _number(row.get("discount_ends_in_days"))
    if ends is not None and 0 <= ends <= 31:
        return "subscription.discount_ends", {"days": _int(ends)}
    if ends is not None and -62 <= ends < 0:
        return "subscription.discount_ended", {"days": _int(-ends)}
    return "subscription.generic", {}


def other(_row: Mapping, _ref: Mapping[str, float]) -> tuple[str, dict[str, object]]:
    return "other", {}


class _Rules(dict):
    """Group -> rule; a group added to `REASON_GROUPS` without its own rule says "other"."""

    def __missing__(self, key: str) -> Rule:
        return other


SENTENCE_RULES: dict[str, Rule] = _Rules(
    overdue=overdue, purchases_falling=purchases_falling, returns=returns,
    complaints=complaints, slow_resolution=slow_resolution, satisfaction=satisfaction,
    engagement=engagement, unsubscribed=unsubscribed, profile=profile,
    subscription=subscription,
)
