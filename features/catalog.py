"""The public feature set: names, groups and meanings, in one place.

Training, scoring, reasons and the docs all read this table. Every window is "the N days up to
and including `as_of`", i.e. event dates in [as_of - N + 1, as_of] (UTC calendar days).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The look-back windows (days up to and including as_of) of windowed features.
FEATURE_WINDOWS_DAYS: tuple[int, ...] = (30, 90, 180, 365)
#: Complaint categories counted one by one (the simulator's; anything else counts as "other").
COMPLAINT_CATEGORIES: tuple[str, ...] = (
    "delivery", "product_quality", "billing", "service", "returns",
)
#: Interaction channels and types counted one by one (others still count in the totals).
INTERACTION_CHANNELS: tuple[str, ...] = ("email", "web", "app", "phone")
INTERACTION_TYPES: tuple[str, ...] = (
    "email_open", "email_click", "site_visit", "app_session", "call",
)


def category_feature(category: str) -> str:
    return f"complaints_90d_{category}"


def channel_feature(channel: str, days: int) -> str:
    return f"{channel}_channel_{days}d"


def type_feature(kind: str, days: int) -> str:
    return f"{kind}s_{days}d"


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    group: str  # rfm | complaints | satisfaction | engagement | profile | subscription
    source: str  # staged table it comes from
    unit: str
    meaning: str
    categorical: bool = False


FEATURES: tuple[FeatureSpec, ...] = (
    # --- RFM and cadence (purchases with status 'completed') ---
    FeatureSpec("recency_days", "rfm", "purchases", "days", "Days from the last completed order to as_of (0 = bought on as_of)."),
    FeatureSpec("tenure_days", "rfm", "purchases", "days", "Days from the first completed order to as_of."),
    FeatureSpec("orders_30d", "rfm", "purchases", "orders", "Completed orders in the last 30 days."),
    FeatureSpec("orders_90d", "rfm", "purchases", "orders", "Completed orders in the last 90 days."),
    FeatureSpec("orders_180d", "rfm", "purchases", "orders", "Completed orders in the last 180 days."),
    FeatureSpec("orders_365d", "rfm", "purchases", "orders", "Completed orders in the last 365 days."),
    FeatureSpec("orders_lifetime", "rfm", "purchases", "orders", "Completed orders up to as_of."),
    FeatureSpec("spend_30d", "rfm", "purchases", "currency", "Spend on completed orders in the last 30 days."),
    FeatureSpec("spend_90d", "rfm", "purchases", "currency", "Spend on completed orders in the last 90 days."),
    FeatureSpec("spend_180d", "rfm", "purchases", "currency", "Spend on completed orders in the last 180 days."),
    FeatureSpec("spend_365d", "rfm", "purchases", "currency", "Spend on completed orders in the last 365 days."),
    FeatureSpec("spend_lifetime", "rfm", "purchases", "currency", "Spend on completed orders up to as_of."),
    FeatureSpec("avg_order_value", "rfm", "purchases", "currency", "Lifetime spend / lifetime completed orders."),
    FeatureSpec("median_interval_days", "rfm", "purchases", "days", "Median days between consecutive orders (empty for one-time buyers)."),
    FeatureSpec("interval_std_days", "rfm", "purchases", "days", "Standard deviation of days between orders (needs 3+ orders)."),
    FeatureSpec("overdue_ratio", "rfm", "purchases", "ratio", "recency_days / max(median_interval_days, 1); empty for one-time buyers."),
    FeatureSpec("is_one_time_buyer", "rfm", "purchases", "flag", "1 when the customer has exactly one completed order."),
    FeatureSpec("orders_prev_90d", "rfm", "purchases", "orders", "Completed orders 91-180 days before as_of."),
    FeatureSpec("spend_prev_90d", "rfm", "purchases", "currency", "Spend on completed orders 91-180 days before as_of."),
    FeatureSpec("orders_change_90d", "rfm", "purchases", "ratio in [-1, 1]", "(orders last 90d - orders 90d before) / their sum; 0 when both are 0."),
    FeatureSpec("spend_change_90d", "rfm", "purchases", "ratio in [-1, 1]", "(spend last 90d - spend 90d before) / their sum; 0 when both are 0."),
    FeatureSpec("usual_orders_per_30d", "rfm", "purchases", "orders per 30 days", "The customer's own usual rate: completed orders older than 90 days per 30 days of history from the first order to 90 days before as_of; empty when that history is under 90 days."),
    FeatureSpec("orders_90d_vs_usual", "rfm", "purchases", "ratio", "orders_90d / (3 x usual_orders_per_30d): 1 = buying as usual, 0 = stopped; empty without a usual rate."),
    FeatureSpec("orders_surprise_30d", "rfm", "purchases", "nats", "-ln P(Poisson(usual_orders_per_30d) <= orders_30d): how unlikely this few orders are at the own usual rate; empty without a usual rate."),
    FeatureSpec("orders_surprise_90d", "rfm", "purchases", "nats", "-ln P(Poisson(3 x usual_orders_per_30d) <= orders_90d); empty without a usual rate."),
    FeatureSpec("order_silence_surprise", "rfm", "purchases", "nats", "recency_days x usual_orders_per_30d / 30 = -ln P(no order for recency_days at the usual rate); empty without a usual rate."),
    FeatureSpec("return_share", "rfm", "purchases", "share", "Returned orders / (completed + returned) orders up to as_of."),
    # --- Complaints and service (opened/resolved timestamps, never the export-time status) ---
    FeatureSpec("complaints_30d", "complaints", "complaints", "complaints", "Complaints opened in the last 30 days."),
    FeatureSpec("complaints_90d", "complaints", "complaints", "complaints", "Complaints opened in the last 90 days."),
    FeatureSpec("complaints_365d", "complaints", "complaints", "complaints", "Complaints opened in the last 365 days."),
    FeatureSpec("days_since_last_complaint", "complaints", "complaints", "days", "Days from the last complaint opened to as_of."),
    FeatureSpec("open_complaints", "complaints", "complaints", "complaints", "Complaints opened on or before as_of and not resolved by the end of as_of."),
    FeatureSpec("oldest_open_complaint_days", "complaints", "complaints", "days", "Age at as_of of the oldest complaint still open (empty when none)."),
    FeatureSpec("median_resolution_days_365d", "complaints", "complaints", "days", "Median opened-to-resolved time of complaints resolved in the last 365 days."),
    FeatureSpec("max_resolution_days_365d", "complaints", "complaints", "days", "Slowest opened-to-resolved time among complaints resolved in the last 365 days."),
    FeatureSpec("repeat_complaints_365d", "complaints", "complaints", "complaints", "Complaints in the last 365 days opened within 14 days of the previous one."),
    FeatureSpec("complaint_order_ratio_365d", "complaints", "complaints", "ratio", "complaints_365d / max(orders_365d, 1)."),
    *(
        FeatureSpec(category_feature(c), "complaints", "complaints", "complaints", f"Complaints in category '{c}' opened in the last 90 days.")
        for c in COMPLAINT_CATEGORIES
    ),
    FeatureSpec(category_feature("other"), "complaints", "complaints", "complaints", "Complaints of any other (or no) category opened in the last 90 days."),
    # --- Satisfaction (a rating counts from its ticket's resolved_at) ---
    FeatureSpec("last_satisfaction", "satisfaction", "complaints", "0-1 score", "The most recent rating known at as_of (0 = worst, 1 = best); a rating is known 3 days after its resolution."),
    FeatureSpec("worst_satisfaction_365d", "satisfaction", "complaints", "0-1 score", "Lowest rating known from the last 365 days."),
    FeatureSpec("rated_bad_not_recovered", "satisfaction", "complaints", "flag", "1 when the last rating was bad (<= 0.25) and no completed order followed it."),
    FeatureSpec("unrated_resolved_365d", "satisfaction", "complaints", "complaints", "Complaints resolved in the last 365 days, survey window (3 days) passed, that carry no rating."),
    FeatureSpec("nps_detractor", "satisfaction", "complaints", "flag", "1 when the last rating is <= 0.6 (NPS 0-6; CSAT 1-3; Bad); 0 when none is known."),
    FeatureSpec("surveyed_no_answer", "satisfaction", "complaints", "flag", "1 when the latest complaint whose survey window (3 days) has passed carries no rating (every solved ticket is surveyed)."),
    # --- Engagement ---
    FeatureSpec("interactions_30d", "engagement", "interactions", "interactions", "Interactions in the last 30 days."),
    FeatureSpec("interactions_90d", "engagement", "interactions", "interactions", "Interactions in the last 90 days."),
    FeatureSpec("interactions_prev_60d", "engagement", "interactions", "interactions", "Interactions 31-90 days before as_of."),
    FeatureSpec("engagement_change", "engagement", "interactions", "ratio in [-1, 1]", "(2 x interactions_30d - interactions_prev_60d) / their sum; the monthly rate now vs before."),
    FeatureSpec("days_since_last_interaction", "engagement", "interactions", "days", "Days from the last interaction to as_of."),
    FeatureSpec("inbound_share_90d", "engagement", "interactions", "share", "Share of the last 90 days' interactions the customer started."),
    FeatureSpec("inbound_90d", "engagement", "interactions", "interactions", "Interactions in the last 90 days the customer started (visits, app sessions, inbound calls)."),
    FeatureSpec("outbound_90d", "engagement", "interactions", "interactions", "Interactions in the last 90 days the business started (e-mails, outbound calls)."),
    *(
        spec
        for days in (30, 90)
        for spec in (
            *(FeatureSpec(channel_feature(ch, days), "engagement", "interactions", "interactions", f"Interactions on channel '{ch}' in the last {days} days.") for ch in INTERACTION_CHANNELS),
            *(FeatureSpec(type_feature(t, days), "engagement", "interactions", "interactions", f"Interactions of type '{t}' in the last {days} days.") for t in INTERACTION_TYPES),
        )
    ),
    FeatureSpec("interactions_surprise_30d", "engagement", "interactions", "nats", "-ln P(Poisson(30 x usual daily rate) <= interactions_30d); the usual rate counts interactions older than 60 days per day since the first one; 0 when that history is under 90 days."),
    FeatureSpec("interactions_surprise_60d", "engagement", "interactions", "nats", "-ln P(Poisson(60 x usual daily rate) <= interactions in the last 60 days); 0 without a usual rate."),
    FeatureSpec("interaction_silence_surprise", "engagement", "interactions", "nats", "days_since_last_interaction x usual daily rate = -ln P(no interaction for that long at the usual rate); 0 without a usual rate."),
    FeatureSpec("unsubscribed", "engagement", "interactions", "flag", "1 when the customer unsubscribed from the newsletter on or before as_of."),
    # --- Customer master ---
    FeatureSpec("account_age_days", "profile", "customers", "days", "Days from signup to as_of."),
    FeatureSpec("segment", "profile", "customers", "category", "Customer segment from the master (levels fixed at training).", categorical=True),
    FeatureSpec("region", "profile", "customers", "category", "Region from the master (levels fixed at training).", categorical=True),
    # --- Subscriptions (payments + the subscriptions export; features/subscriptions.py) ---
    FeatureSpec("mrr", "subscription", "subscriptions", "currency per month", "The last completed payment up to as_of divided by the months of its billing period."),
    FeatureSpec("mrr_change_90d", "subscription", "subscriptions", "ratio in [-1, 1]", "(mrr - MRR of the last payment 90+ days before as_of) / their sum: > 0 an upgrade, < 0 a downgrade, 0 unchanged or unknown."),
    FeatureSpec("billing_months", "subscription", "subscriptions", "months", "Billing period of the latest subscription started by as_of (1 monthly, 12 yearly; 1 when unknown)."),
    FeatureSpec("tenure_periods", "subscription", "subscriptions", "billing periods", "Whole calendar months from the first subscription start (else the first payment) to as_of, divided by billing_months."),
    FeatureSpec("days_to_renewal", "subscription", "subscriptions", "days (negative: overdue)", "Days from as_of to the next renewal: last completed payment + one billing period."),
    FeatureSpec("payment_failures_90d", "subscription", "subscriptions", "payments", "Failed (cancelled) payments in the last 90 days."),
    FeatureSpec("active_subscriptions", "subscription", "subscriptions", "subscriptions", "Subscriptions started by as_of and neither cancelled nor ended by then."),
    FeatureSpec("discount_ends_in_days", "subscription", "subscriptions", "days (negative: ended)", "Days from as_of to the nearest discount end ahead, else since the latest one passed; empty without a discount."),
)

FEATURES_BY_NAME: dict[str, FeatureSpec] = {spec.name: spec for spec in FEATURES}
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(s.name for s in FEATURES if s.categorical)


def feature_names(available_sources: tuple[str, ...] | list[str]) -> list[str]:
    """The features computable from the given staged sources, in catalog order."""
    return [spec.name for spec in FEATURES if spec.source in available_sources]


def feature_table_markdown() -> str:
    """The feature documentation table (docs/features.md is generated from this)."""
    rows = ["| feature | group | source | unit | meaning |", "|---|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.group} | {s.source} | {s.unit} | {s.meaning} |" for s in FEATURES]
    return "\n".join(rows) + "\n"


def feature_table_schema(columns: list[str]):
    """Contract of a feature table (grain: one row per eligible customer at one `as_of`)."""
    import pandera.pandas as pa

    checks = {
        "customer_id": pa.Column(str, unique=True),
        "as_of": pa.Column("datetime64[ns]", coerce=True),
        "last_purchase_date": pa.Column("datetime64[ns]", coerce=True),
    }
    for name in columns:
        spec = FEATURES_BY_NAME[name]
        if spec.categorical:
            checks[name] = pa.Column(str, nullable=True)
        elif spec.unit in ("days", "orders", "complaints", "interactions"):
            checks[name] = pa.Column(float, pa.Check.ge(0), nullable=True)
        else:
            checks[name] = pa.Column(float, nullable=True)
    return pa.DataFrameSchema(checks, strict=True, ordered=True)


def features_doc() -> str:
    """The whole of docs/features.md."""
    return (
        "# Feature reference\n\n"
        "Generated from `features/catalog.py` (`python -m features.catalog > docs/features.md`); "
        "a test keeps the two identical. Windows are the N days up to and including `as_of` "
        "(UTC calendar days); events after the end of the `as_of` day are never seen.\n\n"
        + feature_table_markdown()
        + NOTES
    )


NOTES = """
## Definitions and choices

- **Trends.** `orders_change_90d` and `spend_change_90d` compare the last 90 days with the 90
  days before them as (now - before) / (now + before): -1 = stopped, 0 = steady or no orders in
  either period, +1 = new activity. `engagement_change` compares the monthly interaction rate of
  the last 30 days (x 2) with the 60 days before it in the same way.
- **Own-history baselines.** A customer's usual order rate is measured before the last 90 days
  (orders with an age of 90 days or more per day from the first order to 90 days ago), the usual
  interaction rate before the last 60 days (per day since the first interaction), each only
  with at least 90 days of such history. The "surprise" features are -ln of a Poisson
  probability at that usual rate: 0 = nothing unusual, 2.3 = a 1-in-10 shortfall, 4.6 = 1 in
  100. They compare a customer with their own habits, which a global count cannot do (two
  orders in 90 days is normal for one customer and a collapse for another). Order baselines
  are empty without enough history; interaction surprises read 0 (no evidence of a drop).
- **One-time buyers** have `is_one_time_buyer = 1` and empty interval features: a state the
  model sees, not a missing value to impute.
- **Satisfaction scale.** Staged ratings are on a common 0-1 scale (staging maps CSAT 1-5 to
  0, .25, .5, .75, 1, Good/Bad to 1/0 and keeps 0-1 fractions). "Bad" is <= 0.25. Staging has
  no NPS 0-10 input yet, so `nps_detractor` uses the NPS cut-off on the common scale: <= 0.6
  (NPS 0-6 as score / 10), which on CSAT means 1-3. Exports carry the answer but not when it
  was given, so a rating counts only from 3 days after its ticket's `resolved_at` (the survey
  window, `RATING_DELAY_DAYS` in features/sql.py): counting it at the resolution would let an
  answer given days later reach earlier cutoffs. Never from the export-time status.
- **Surveyed but no answer.** The staged complaints carry no "survey offered" column, so every
  solved ticket counts as surveyed; `surveyed_no_answer` is 1 when the latest solved ticket
  whose survey window has passed has no rating (a ticket solved in the last 3 days is not yet
  "no answer").
- **Reopens are not computed**: no staged complaint column records reopen events with their
  times (the Zendesk `Reopens` count is an export-time value and would leak the future).
- **Complaint categories** other than the five named ones (and empty categories) count in
  `complaints_90d_other`; interactions on other channels or of other types count only in the
  totals.
- **Subscriptions** use only the dated facts of a subscriptions export (starts, cancellations,
  ends, billing periods, coupon ends); its plan, MRR, seats and status are export-time values
  and never reach a feature. MRR and its change come from the payments. Seats used vs bought
  are not computed (no export dates seat usage).
- **Missing sources** remove their groups: no complaints export, no complaint, satisfaction
  columns; no interactions, no engagement; no customer master, no profile.
"""


if __name__ == "__main__":
    print(features_doc(), end="")
