"""Subscription billing exports as the `subscriptions` kind: Stripe and Chargebee.

- Stripe subscriptions (dashboard CSV: `id, Customer ID, Customer Email, Plan, Quantity,
  Currency, Interval, Amount, Status, Created (UTC), Start (UTC)` or `Start Date (UTC)`,
  `Current Period Start/End (UTC), Canceled At (UTC), Ended At (UTC), …`): one subscription
  per row keyed by its `id` (`sub_…`). `Customer ID` is Stripe's own number (`cus_…`, id space
  `stripe`), linked to the business's customers by `Customer Email`. Started at `Start`
  (else `Created`); `Canceled At` and `Ended At` are the cancellation and the end. `Interval`
  is the billing period; MRR = `Amount` × `Quantity` / the period's months; `Quantity` is the
  seats. `Status` is export-time; a subscription Stripe shows as `incomplete` or
  `incomplete_expired` never had a first payment and is set aside. `Current Period …`,
  `Trial …`, `Cancel At Period End`, `Cancellation Reason` and metadata are not read.
- Chargebee subscriptions (Export API CSV, its documented fields `id, customer_id, status,
  cancel_reason, cancel_reason_code, created_at, activated_at, cancelled_at,
  next_billing_at, plan_id` or `item_price_id`): keyed by `id`; `customer_id` is Chargebee's
  customer id (id space `chargebee`: set `id_space: ""` in sources.yaml when it holds your own
  customer numbers); started at `activated_at` (else `created_at`), cancelled at
  `cancelled_at`; the plan is `plan_id` / `item_price_id`. Chargebee writes times as Unix
  seconds in its API; those are read as UTC. The documented fields carry no billing period or
  amount, so the renewal label takes the period from the customer's payments; `status`,
  `next_billing_at` and the cancel reasons are export-time and not read as facts.
"""

from __future__ import annotations

import pandas as pd

from features.contracts import BILLING_PERIOD_MONTHS
from pipelines.ingest.cells import cell_text, parse_numbers
from pipelines.ingest.headers import fold_header
from pipelines.ingest.presets.base import (
    PresetResult,
    epoch_or_text,
    find_column,
    require_column,
)
from pipelines.ingest.staging import PRESET_REASON, SOURCE_LINE
from pipelines.ingest.subscription_rows import billing_periods

_NEVER_STARTED = {"incomplete", "incompleteexpired"}


def _column(frame: pd.DataFrame, column: str | None) -> pd.Series:
    return cell_text(frame[column]) if column else pd.Series(None, index=frame.index,
                                                             dtype=object)


def stripe_subscriptions(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """One subscription per row; MRR from amount, quantity and interval."""
    wanted = {
        "subscription_id": require_column(frame, "id", preset="stripe-subscriptions"),
        "customer_id": find_column(frame, "Customer ID", "Customer"),
        "email": find_column(frame, "Customer Email"),
        "plan": find_column(frame, "Plan", "Product"),
        "started_at": find_column(frame, "Start (UTC)", "Start Date (UTC)", "Start",
                                  "Start Date", "Created (UTC)", "Created"),
        "cancelled_at": find_column(frame, "Canceled At (UTC)", "Canceled At"),
        "ended_at": find_column(frame, "Ended At (UTC)", "Ended At"),
        "billing_period": require_column(frame, "Interval", preset="stripe-subscriptions"),
        "status": find_column(frame, "Status"),
    }
    # dates stay cells (staging reads them with the file's rules); text is stripped
    out = pd.DataFrame({target: frame[source] if target.endswith("_at") else cell_text(
        frame[source]) for target, source in wanted.items() if source}, index=frame.index)
    amount_col, quantity_col = find_column(frame, "Amount"), find_column(frame, "Quantity")
    amount = (parse_numbers(frame[amount_col], locale)[0] if amount_col
              else pd.Series(float("nan"), index=frame.index))
    seats = (parse_numbers(frame[quantity_col], locale)[0] if quantity_col
             else pd.Series(float("nan"), index=frame.index))
    months = billing_periods(out["billing_period"]).map(BILLING_PERIOD_MONTHS).astype(float)
    out["mrr"] = (amount * seats.fillna(1) / months).round(2)
    out["seats"] = seats
    out[SOURCE_LINE] = lines
    folded = _column(frame, wanted["status"]).fillna("").map(fold_header)
    out[PRESET_REASON] = folded.isin(_NEVER_STARTED).map(
        {True: "subscription never started (Stripe status incomplete: no first payment)",
         False: None})
    mapping = {source: target for target, source in wanted.items() if source}
    if wanted["status"]:
        mapping[wanted["status"]] = "status (export-time)"
    if amount_col:
        mapping[amount_col] = "mrr (amount x quantity / interval months)"
    if quantity_col:
        mapping[quantity_col] = "seats"
    return PresetResult(out, 0, mapping, id_space="stripe")


def chargebee_subscriptions(frame: pd.DataFrame, lines: list[int], locale: str
                            ) -> PresetResult:
    """One subscription per row from Chargebee's documented subscription fields."""
    preset = "chargebee-subscriptions"
    wanted = {
        "subscription_id": require_column(frame, "id", preset=preset),
        "customer_id": require_column(frame, "customer_id", preset=preset),
        "plan": find_column(frame, "plan_id", "item_price_id"),
        "started_at": find_column(frame, "activated_at", "created_at"),
        "cancelled_at": find_column(frame, "cancelled_at"),
        "status": find_column(frame, "status"),
    }
    out = pd.DataFrame(index=frame.index)
    for target, source in wanted.items():
        if source is None:
            continue
        out[target] = (epoch_or_text(frame[source], "s") if target.endswith("_at")
                       else cell_text(frame[source]))
    out[SOURCE_LINE] = lines
    mapping = {source: target for target, source in wanted.items() if source}
    if wanted["status"]:
        mapping[wanted["status"]] = "status (export-time)"
    return PresetResult(out, 0, mapping, id_space="chargebee")
