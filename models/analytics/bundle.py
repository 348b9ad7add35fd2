"""Every analytics table for one as-of date, computed together (what `churn analyze` writes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from features.sources import SourceTables
from models.analytics.cohorts import cohort_table
from models.analytics.policy import AnalyticsPolicy
from models.analytics.retention import retention_rates
from models.analytics.service import (
    band_cutoff,
    churn_by_resolution_band,
    complaint_kpis,
    engagement_kpis,
)
from models.analytics.value import (
    clv_cutoff,
    clv_estimates,
    clv_vs_run_rate,
    pareto_curve,
    revenue_last_year,
    top_customers,
    top_revenue_by_tier,
    top_share_of_revenue,
)


@dataclass(frozen=True)
class ScoredList:
    """The scoring run of the same as-of date whose tiers the concentration is split by."""

    risk: pd.DataFrame  # customer_id, risk_tier
    run_id: str
    tiers: list[str]
    top_tiers: list[str]


@dataclass(frozen=True)
class AnalyticsTables:
    as_of: dt.date
    policy: AnalyticsPolicy
    retention: pd.DataFrame
    cohorts: pd.DataFrame
    complaints: pd.DataFrame
    bands: pd.DataFrame
    band_cutoff: dt.date
    engagement: pd.DataFrame
    clv: pd.DataFrame
    clv_check: pd.DataFrame
    clv_cutoff: dt.date
    pareto: pd.DataFrame
    top_share: float
    top_count: int
    scored: ScoredList | None = None
    top_by_tier: pd.DataFrame | None = None
    sources: tuple[str, ...] = field(default=())

    @property
    def top_share_in_top_tiers(self) -> float | None:
        """The share of the top customers' revenue held by customers in the top tiers."""
        if self.scored is None or self.top_by_tier is None:
            return None
        rows = self.top_by_tier[self.top_by_tier["tier"].isin(self.scored.top_tiers)]
        return float(rows["revenue_share"].sum())


def analytics_tables(tables: SourceTables, as_of: dt.date,
                     policy: AnalyticsPolicy | None = None,
                     scored: ScoredList | None = None) -> AnalyticsTables:
    """All tables at `as_of` (each cuts its inputs at the end of that day)."""
    policy = policy or AnalyticsPolicy()
    tables = tables.validated()
    revenue = revenue_last_year(tables, as_of)
    by_tier = None
    if scored is not None:
        by_tier = top_revenue_by_tier(revenue, scored.risk, policy.top_share, scored.tiers)
    return AnalyticsTables(
        as_of=as_of, policy=policy,
        retention=retention_rates(tables, as_of, policy),
        cohorts=cohort_table(tables, as_of, policy),
        complaints=complaint_kpis(tables, as_of, policy),
        bands=churn_by_resolution_band(tables, as_of, policy),
        band_cutoff=band_cutoff(as_of, policy),
        engagement=engagement_kpis(tables, as_of, policy),
        clv=clv_estimates(tables, as_of, policy),
        clv_check=clv_vs_run_rate(tables, as_of, policy),
        clv_cutoff=clv_cutoff(as_of, policy),
        pareto=pareto_curve(revenue),
        top_share=top_share_of_revenue(revenue, policy.top_share),
        top_count=len(top_customers(revenue, policy.top_share)),
        scored=scored, top_by_tier=by_tier, sources=tables.available,
    )
