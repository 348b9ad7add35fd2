"""The subscription reason: the most concrete fact first, the customer's own numbers."""

from __future__ import annotations

import pytest

from models.reason_rules import Count, subscription


@pytest.mark.parametrize("row, key, params", [
    ({"payment_failures_90d": 2.0, "days_to_renewal": -5.0},
     "subscription.failed", {"failures": Count(2.0, "payment")}),
    ({"payment_failures_90d": 0.0, "days_to_renewal": -5.0}, "subscription.overdue",
     {"days": 5}),
    ({"mrr_change_90d": -1 / 3}, "subscription.downgraded", {"percent": 50}),  # 40 -> 20
    ({"discount_ends_in_days": 12.0}, "subscription.discount_ends", {"days": 12}),
    ({"discount_ends_in_days": -20.0}, "subscription.discount_ended", {"days": 20}),
    ({"discount_ends_in_days": -200.0, "days_to_renewal": 10.0}, "subscription.generic", {}),
])
def test_subscription_reason(row, key, params):
    assert subscription(row, {}) == (key, params)
