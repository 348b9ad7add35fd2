"""Data contracts for the staged tables and the feature table, declared once.

Each schema's docstring states the table's grain and key. `pipelines` validates staged tables
before writing them and feature tables before saving; `features` validates its inputs so a
hand-built frame in a notebook gets the same guarantees as the flow.

Timestamps are tz-aware UTC; identifiers are text (leading zeros are data, not formatting).
"""

from __future__ import annotations

from typing import Optional

import pandas as pd
import pandera.pandas as pa
from pandera import extensions
from pandera.typing import Series

from features.codes import any_duplicated

UTC_TS = {"unit": "us", "tz": "UTC"}


@extensions.register_check_method(statistics=["enabled"], supported_types=pd.Series)
def distinct_values(values: pd.Series, *, enabled: bool) -> bool | pd.Series:
    """A key column's contract: every value once (missing equal to missing). On failure, the
    mask of the repeated rows, so the error quotes them. Not pandera's `unique`: Arrow's
    hash table of every text took 8-11 s and +1.2 GB for 20 M order ids, `any_duplicated`
    1.3 s and +0.4 GB."""
    if not enabled or not any_duplicated(values):
        return True
    return ~values.duplicated(keep=False)


PURCHASE_STATUSES = ("completed", "cancelled", "returned")


class StagedPurchases(pa.DataFrameModel):
    """One row per order (key: `order_id`). `amount` in account currency, gross of returns."""

    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    order_id: Series[str] = pa.Field(distinct_values=True, str_length={"min_value": 1})
    order_date: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS)
    amount: Series[float]
    status: Series[str] = pa.Field(isin=list(PURCHASE_STATUSES))
    quantity: Series[float] = pa.Field(nullable=True, ge=0)
    channel: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = "filter"
        coerce = True


class StagedComplaints(pa.DataFrameModel):
    """One row per complaint or ticket (key: `complaint_id`).

    `satisfaction` is on a common 0-1 scale (CSAT 1-5 maps to 0, .25, .5, .75, 1). A rating
    cannot be given before the ticket is solved, and exports do not say when it was given, so
    features count it as known from a survey window after `resolved_at` on.
    `status` is the export-time status and must never feed a point-in-time feature.
    """

    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    complaint_id: Series[str] = pa.Field(distinct_values=True, str_length={"min_value": 1})
    opened_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS)
    resolved_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS, nullable=True)
    category: Series[str] = pa.Field(nullable=True)
    status: Series[str] = pa.Field(nullable=True)
    satisfaction: Series[float] = pa.Field(nullable=True, ge=0, le=1)

    @pa.dataframe_check
    @classmethod  # pandera calls checks on the class; this says so to the type checker
    def resolved_not_before_opened(cls, df: pd.DataFrame) -> Series[bool]:
        return df["resolved_at"].isna() | (df["resolved_at"] >= df["opened_at"])

    class Config:
        strict = "filter"
        coerce = True


class StagedInteractions(pa.DataFrameModel):
    """One row per interaction (key: `interaction_id`, generated from the row when absent)."""

    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    interaction_id: Series[str] = pa.Field(distinct_values=True)
    occurred_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS)
    channel: Series[str] = pa.Field(nullable=True)
    type: Series[str] = pa.Field(nullable=True)
    direction: Series[str] = pa.Field(nullable=True, isin=["inbound", "outbound"])

    class Config:
        strict = "filter"
        coerce = True


class StagedCustomers(pa.DataFrameModel):
    """One row per customer (key: `customer_id`): the optional customer master."""

    customer_id: Series[str] = pa.Field(distinct_values=True, str_length={"min_value": 1})
    name: Series[str] = pa.Field(nullable=True)
    email: Series[str] = pa.Field(nullable=True)  # empty unless a risk list may show it
    # likewise (pipelines.privacy.columns); optional: tables staged before it have none
    phone: Optional[Series[str]] = pa.Field(nullable=True)  # noqa: UP045 (pandera reads it)
    signup_date: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS, nullable=True)
    segment: Series[str] = pa.Field(nullable=True)
    region: Series[str] = pa.Field(nullable=True)
    owner: Series[str] = pa.Field(nullable=True)
    cancelled_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS, nullable=True)

    class Config:
        strict = "filter"
        coerce = True


#: Billing periods a subscription renews at, with their length in calendar months.
BILLING_PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


class StagedSubscriptions(pa.DataFrameModel):
    """One row per subscription (key: `subscription_id`), as a billing system exports them.

    Point-in-time facts: `started_at`, `cancelled_at` (when the cancellation was asked for),
    `ended_at` (when the service stopped; may lie ahead: cancelled at the period end),
    `billing_period` and `discount_ends_at` (a coupon's end is fixed when it is applied).
    `plan`, `mrr`, `seats` and `status` are the subscription's state at export time (a later
    upgrade overwrites them), so they describe the export and never feed a feature at an
    earlier cutoff; MRR over time comes from the payments. `mrr` is in account currency per
    month (amount x quantity / months of the billing period).
    """

    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    subscription_id: Series[str] = pa.Field(distinct_values=True, str_length={"min_value": 1})
    plan: Series[str] = pa.Field(nullable=True)
    started_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS)
    cancelled_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS, nullable=True)
    ended_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS, nullable=True)
    billing_period: Series[str] = pa.Field(nullable=True, isin=list(BILLING_PERIOD_MONTHS))
    mrr: Series[float] = pa.Field(nullable=True, ge=0)
    seats: Series[float] = pa.Field(nullable=True, ge=0)
    status: Series[str] = pa.Field(nullable=True)
    discount: Series[float] = pa.Field(nullable=True, ge=0)
    discount_ends_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS, nullable=True)
    channel: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check
    @classmethod  # pandera calls checks on the class; this says so to the type checker
    def ended_not_before_started(cls, df: pd.DataFrame) -> Series[bool]:
        return df["ended_at"].isna() | (df["ended_at"] >= df["started_at"])

    class Config:
        strict = "filter"
        coerce = True


class StagedActions(pa.DataFrameModel):
    """One row per retention action the team took (key: `action_id`, generated from the row
    when absent): a call, an offer, a campaign e-mail, each at its own `action_at`.

    Actions are events: a figure may use one only after its `action_at` (the track record
    counts an action for a list when it lies in that list's label window). They are never a
    model feature (they are not random: the team acts on the list). `outcome` is what the
    team wrote down (reached, voicemail, accepted offer...), `cost` what the action cost in
    account currency; `list_run_id` and `row_id` name the risk-list row worked, when known.
    """

    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    action_id: Series[str] = pa.Field(distinct_values=True)
    action_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_TS)
    action: Series[str] = pa.Field(str_length={"min_value": 1})
    channel: Series[str] = pa.Field(nullable=True)
    owner: Series[str] = pa.Field(nullable=True)
    cost: Series[float] = pa.Field(nullable=True, ge=0)
    outcome: Series[str] = pa.Field(nullable=True)
    campaign: Series[str] = pa.Field(nullable=True)
    list_run_id: Series[str] = pa.Field(nullable=True)
    row_id: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = "filter"
        coerce = True


def distinct_columns(schema: type[pa.DataFrameModel]) -> list[str]:
    """The columns `schema` declares distinct (its keys, `distinct_values=True`)."""
    return [name for name, column in schema.to_schema().columns.items()
            if any(check.name == "distinct_values" and check.statistics.get("enabled")
                   for check in column.checks)]


STAGED_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "purchases": StagedPurchases,
    "complaints": StagedComplaints,
    "interactions": StagedInteractions,
    "customers": StagedCustomers,
    "subscriptions": StagedSubscriptions,
    "actions": StagedActions,
}

#: Columns a raw export must provide (after header mapping) for each kind.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "purchases": ("customer_id", "order_id", "order_date", "amount"),
    "complaints": ("customer_id", "complaint_id", "opened_at"),
    "interactions": ("customer_id", "occurred_at", "channel"),
    "customers": ("customer_id",),
    "subscriptions": ("customer_id", "subscription_id", "started_at"),
    "actions": ("customer_id", "action_at", "action"),
}

#: Source key used to deduplicate re-exports of the same record.
SOURCE_KEYS: dict[str, str] = {
    "purchases": "order_id",
    "complaints": "complaint_id",
    "interactions": "interaction_id",
    "customers": "customer_id",
    "subscriptions": "subscription_id",
    "actions": "action_id",
}

TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "purchases": ("order_date",),
    "complaints": ("opened_at", "resolved_at"),
    "interactions": ("occurred_at",),
    "customers": ("signup_date", "cancelled_at"),
    "subscriptions": ("started_at", "cancelled_at", "ended_at", "discount_ends_at"),
    "actions": ("action_at",),
}

#: Timestamp columns that must be present on every staged row.
REQUIRED_TIMESTAMPS: dict[str, tuple[str, ...]] = {
    "purchases": ("order_date",),
    "complaints": ("opened_at",),
    "interactions": ("occurred_at",),
    "customers": (),
    "subscriptions": ("started_at",),
    "actions": ("action_at",),
}


def empty_staged(kind: str) -> pd.DataFrame:
    """An empty frame with the staged columns and dtypes of `kind` (for a missing source)."""
    schema = STAGED_SCHEMAS[kind].to_schema()
    frame = pd.DataFrame({name: pd.Series(dtype="object") for name in schema.columns})
    return schema.validate(frame)
