from __future__ import annotations

import pandas as pd

from models.segments import expected_revenue_12m, quintile_score, rfm_scores, rfm_segment


def test_quintile_scores_rank_within_the_run_and_share_ties():
    assert quintile_score(pd.Series([1.0, 2, 3, 4, 5])).tolist() == [1, 2, 3, 4, 5]
    assert quintile_score(pd.Series([1.0, 2, 3, 4, 5]), higher_is_better=False).tolist() == [
        5, 4, 3, 2, 1]
    assert quintile_score(pd.Series([7.0, 7.0])).tolist() == [4, 4]


def test_segment_rules_from_the_documented_scheme():
    scores = pd.DataFrame({
        "r": [5, 4, 5, 3, 3, 2, 1, 2, 1],
        "f": [5, 3, 1, 3, 2, 4, 5, 1, 1],
        "m": [4, 3, 2, 4, 1, 3, 4, 2, 1],
    })
    assert rfm_segment(scores).tolist() == [
        "Champions", "Loyal", "Promising", "Loyal", "Needs attention", "At risk", "At risk",
        "Hibernating", "Lost",
    ]


def test_every_customer_gets_a_segment():
    features = pd.DataFrame({"recency_days": [1.0, 400.0, 30.0], "orders_365d": [12.0, 0.0, 3.0],
                             "spend_365d": [900.0, 0.0, 100.0]})
    scores = rfm_scores(features)
    # percentile ranks 1/3, 2/3, 1 -> scores ceil(5 x rank) = 2, 4, 5
    assert scores.to_numpy().tolist() == [[5, 5, 5], [2, 2, 2], [4, 4, 4]]
    assert rfm_segment(scores).tolist() == ["Champions", "Hibernating", "Champions"]


def test_expected_revenue_uses_last_year_or_an_annualised_run_rate():
    features = pd.DataFrame({
        "tenure_days": [400.0, 182.5, 10.0],
        "spend_365d": [1200.0, 500.0, 50.0],
        "spend_lifetime": [3000.0, 500.0, 50.0],
    })
    # a year or more: last 365 days; half a year: doubled; 10 days: counted as 90 days
    assert expected_revenue_12m(features).round(2).tolist() == [1200.0, 1000.0, 202.78]


def test_a_subscriber_is_worth_twelve_months_of_the_current_mrr():
    features = pd.DataFrame({
        "tenure_days": [400.0, 400.0], "spend_365d": [150.0, 1200.0],
        "spend_lifetime": [300.0, 2400.0], "mrr": [39.0, float("nan")],
    })
    assert expected_revenue_12m(features).tolist() == [468.0, 1200.0]
