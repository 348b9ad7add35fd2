"""Contractual or not: the verdict and its evidence from payments, master and subscriptions."""

from __future__ import annotations

import pandas as pd

from features.billing import default_definition, detect_billing
from tests import factories as f


def subscribers(n: int, months: int = 1, start: str = "2024-01-07") -> list[tuple]:
    first = pd.Timestamp(start)
    return [(f"S{i}", str((first + pd.DateOffset(months=months * k)).date()), 29)
            for i in range(n) for k in range(6 if months == 1 else 3)]


def shoppers(n: int) -> list[tuple]:
    return [(f"R{i}", str((pd.Timestamp("2024-01-03") + pd.Timedelta(days=(7 + 11 * i) * k
                                                                      % 300)).date()),
             10 + 3 * k + i) for i in range(n) for k in range(5)]


def test_regular_payments_with_cancellations_in_the_master_are_contractual():
    tables = f.tables(purchases=f.purchases(subscribers(8) + shoppers(4)),
                      customers=f.customers([("S1", "2024-01-07", "SMB", "2024-05-01")]))
    verdict = detect_billing(tables)
    assert verdict.contractual and verdict.billing_months == 1
    assert "8 of 12 customers" in verdict.summary() and "1 cancellation" in verdict.summary()
    assert default_definition(verdict) == "renewal"


def test_irregular_shoppers_are_non_contractual():
    verdict = detect_billing(f.tables(purchases=f.purchases(shoppers(10) + subscribers(1))))
    assert not verdict.contractual and default_definition(verdict) == "no_purchase"
    assert verdict.summary().startswith("non-contractual: 1 of 11 customers")


def test_regular_payers_without_cancellations_need_a_clear_majority():
    half = f.tables(purchases=f.purchases(subscribers(6) + shoppers(4)))
    assert not detect_billing(half).contractual  # 60 %, and nobody ever cancelled
    most = f.tables(purchases=f.purchases(subscribers(9, months=12) + shoppers(1)))
    verdict = detect_billing(most)
    assert verdict.contractual and verdict.billing_months == 12


def test_a_subscriptions_export_makes_it_contractual_and_names_the_periods():
    subs = f.subscriptions([("R1", "2024-01-03", "month"), ("R2", "2024-01-03", "year")])
    verdict = detect_billing(f.tables(purchases=f.purchases(shoppers(3)), subscriptions=subs))
    assert verdict.contractual
    assert "subscriptions export with 2 subscriptions of 2 customers (50% month, 50% year)" \
        in verdict.summary()
