"""The simulated subscription business: billing on calendar anchors, churn rate, failures,
plan changes, fading product events, point in time, and what `churn ingest` makes of it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.billing import detect_billing
from features.renewals import cadence_months
from pipelines.ingest.run import ingest_raw_exports
from pipelines.sample.config import SimulationConfig
from pipelines.sample.generate import generate_and_write
from pipelines.sample.subscription import EVENT_TYPES, simulate_subscription_business
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables

CONFIG = SimulationConfig(customers=1500, seed=3, truth_replicates=30, business="subscription")
END_EXCL = pd.Timestamp(CONFIG.end) + pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def biz():
    return simulate_subscription_business(CONFIG)


def test_deterministic_per_seed(biz):
    again = simulate_subscription_business(CONFIG)
    pd.testing.assert_frame_equal(biz.purchases, again.purchases)
    pd.testing.assert_frame_equal(biz.subscriptions, again.subscriptions)


def test_every_exported_row_lies_on_or_before_the_end(biz):
    for frame, column in ((biz.purchases, "order_date"), (biz.interactions, "occurred_at"),
                          (biz.subscriptions, "started_at"), (biz.customers, "cancelled_at")):
        assert (frame[column].dropna() < END_EXCL).all(), column
    assert set(biz.interactions["type"]) == set(EVENT_TYPES)


def test_monthly_churn_is_between_one_and_a_half_and_three_percent(biz):
    customers = biz.customers
    rates = []
    for month in pd.period_range("2025-11", "2026-10", freq="M"):
        start = month.start_time
        active = (customers["signup_date"] < start) & (
            customers["cancelled_at"].isna() | (customers["cancelled_at"] >= start))
        lost = customers["cancelled_at"].dt.to_period("M") == month
        rates.append(lost.sum() / active.sum())
    assert 0.015 <= np.mean(rates) <= 0.03


def test_renewals_are_paid_on_the_billing_anchor_with_some_failures(biz):
    paid = biz.purchases[biz.purchases["status"] == "completed"]
    months = cadence_months(paid.assign(order_date=paid["order_date"].dt.tz_localize("UTC")),
                            CONFIG.end)
    assert months.value_counts(normalize=True).loc[1] > 0.7 and 12 in set(months)
    failed = (biz.purchases["status"] == "cancelled").mean()
    assert 0.01 < failed < 0.08
    # an anchor on the 31st renews on the last day of shorter months
    first = paid.groupby("customer_id")["order_date"].min()
    on_31 = first.index[first.dt.day == 31]
    days = paid[paid["customer_id"].isin(on_31)]["order_date"].dt
    assert (days.day.isin([28, 29, 30, 31]) | (days.day <= 10)).all()


def test_plan_changes_move_the_amount(biz):
    monthly = biz.subscriptions.loc[biz.subscriptions["billing_period"] == "month",
                                    "customer_id"]
    paid = biz.purchases[(biz.purchases["status"] == "completed")
                         & biz.purchases["customer_id"].isin(set(monthly))]
    distinct = paid.groupby("customer_id")["amount"].nunique()
    assert (distinct > 1).mean() > 0.1  # discounts ending and upgrades/downgrades


def test_product_events_fade_before_a_cancellation(biz):
    master = biz.customers.dropna(subset=["cancelled_at"]).set_index("customer_id")
    # customers with half a year of history before cancelling, so both windows are theirs
    long = master["cancelled_at"] - master["signup_date"] > pd.Timedelta(weeks=26)
    gone = master.loc[long, "cancelled_at"]
    events = biz.interactions[biz.interactions["customer_id"].isin(gone.index)]
    before = (gone.reindex(events["customer_id"]).to_numpy() - events["occurred_at"].to_numpy())
    weeks = pd.Series(before).dt.days // 7
    recent, earlier = (weeks < 4).sum() / 4, ((weeks >= 12) & (weeks < 24)).sum() / 12
    assert recent < 0.75 * earlier  # at risk: a quarter of the usual events


def test_ground_truth_is_for_customers_eligible_at_the_end(biz):
    truth = biz.ground_truth
    cancelled = biz.customers.set_index("customer_id")["cancelled_at"]
    assert cancelled.reindex(truth["customer_id"]).isna().all()
    assert truth["true_churn_probability"].between(0, 1).all()
    assert 0.03 < truth["churned"].mean() < 0.12


def test_generated_exports_ingest_whole_and_read_as_contractual(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    config = dict(customers=200, seed=5, business="subscription")
    generate_and_write(settings, **config)
    report = ingest_raw_exports(settings, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert all(a.balanced and a.quarantined == 0 for a in report.accounts)
    tables = load_source_tables(settings)
    assert tables.subscriptions is not None and len(tables.subscriptions) == 200
    verdict = detect_billing(tables)
    assert verdict.contractual and verdict.billing_months == 1
    generate_and_write(settings, customers=200, seed=5)  # retail replaces every sample file
    assert not (settings.raw_dir / "subscriptions" / "subscriptions_export.csv").exists()
