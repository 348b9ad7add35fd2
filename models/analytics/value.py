"""Customer lifetime value, its out-of-time check, and how concentrated the revenue is.

CLV: BG/NBD (`models.btyd`) for how many purchases a customer still makes and Gamma-Gamma
for what each is worth, both fitted by maximum likelihood on the history up to the as-of
date. A "purchase" is a customer-day with completed orders (same-day orders are one visit,
their amounts summed). Expected 12-month revenue = E[purchases in the horizon] x E[spend per
purchase] (Gamma-Gamma assumes spend independent of frequency). Residual lifetime value sums
the monthly increments of expected purchases over `residual_years`, valued at the expected
spend and discounted at `annual_discount_rate`. The interval is predictive: per customer,
Monte Carlo draws of alive-or-not, the purchase rate, the drop-out chance and the spend level
from their posteriors under the fitted parameters (parameter uncertainty is not included).

Run-rate: the risk list's own estimate (`models.segments.expected_revenue_12m`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.build import to_naive_utc
from features.membership import is_in
from features.shards import customer_hashes
from features.sources import SourceTables
from models.analytics.policy import AnalyticsPolicy, point_in_time
from models.analytics.rates import ORDER_COLUMNS, completed_orders
from models.btyd import (
    DAYS_PER_UNIT,
    expected_purchases,
    expected_spend_per_purchase,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)
from models.segments import expected_revenue_12m

CLV_COLUMNS = ["customer_id", "x", "t_x", "T", "mean_spend", "p_alive",
               "expected_purchases_12m", "expected_spend", "expected_revenue_12m",
               "revenue_12m_low", "revenue_12m_high", "residual_value", "run_rate_12m"]
COMPARISON_COLUMNS = ["estimate", "customers", "predicted_total", "actual_total",
                      "total_error_share", "mae", "rmse"]
ESTIMATES = ("clv", "run_rate")
SUMMARY_COLUMNS = ["customer_id", "x", "t_x", "T", "mean_spend", "tenure_days",
                   "spend_lifetime", "spend_365d"]
MIN_P_ALIVE = 0.01  # below this BG/NBD says "gone"; dividing by less would only add noise


def purchase_summary(tables: SourceTables, as_of: dt.date) -> pd.DataFrame:
    """Per customer with a completed order by `as_of` and not cancelled by then: x (repeat
    purchase days), t_x and T (weeks from the first purchase to the last / to the end of
    `as_of`), mean_spend (mean of the repeat days' amounts; 0 without repeats), and the
    run-rate inputs tenure_days, spend_lifetime, spend_365d; sorted by customer id."""
    # the orders' columns read and the master, no other table: cut at a date before the
    # data's end, every column and table kept is copied
    tables = tables.validated()
    known = point_in_time(SourceTables(tables.purchases[[*ORDER_COLUMNS, "status"]],
                                       customers=tables.customers, checked=True), as_of)
    orders = completed_orders(known.purchases)
    # Integer codes and day numbers instead of a groupby on text: at 20 M orders the
    # groupbys' hashing of the ids was most of a scoring run's value estimate.
    codes, ids = pd.factorize(orders["customer_id"], sort=True)
    kept = np.ones(len(ids), bool)  # per customer: not cancelled by `as_of`
    if known.customers is not None and len(known.customers):
        gone = known.customers.loc[known.customers["cancelled_at"].notna(), "customer_id"]
        # each customer's figures read their own orders alone, so the cancelled are dropped
        # from the result, a row per customer, not from the orders (20 M rows copied)
        kept = ~is_in(pd.Series(ids, dtype=str), gone.astype(str).unique())
    if not kept.any():  # nothing bought by `as_of` (a cutoff before the data starts)
        return purchase_summary_columns()
    day = orders["day"].to_numpy("datetime64[D]").astype(np.int64)
    amount = orders["amount"].to_numpy(float)
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1
    visit, at = np.unique(codes.astype(np.int64) * span + (day - first_day),
                          return_inverse=True)  # one per customer-day, by customer then day
    visit_amount = np.bincount(at, weights=amount, minlength=len(visit))
    visit_customer = visit // span
    visit_day = visit % span + first_day
    starts = np.flatnonzero(np.r_[True, visit_customer[1:] != visit_customer[:-1]])
    visits = np.diff(np.r_[starts, len(visit)])
    first, last = visit_day[starts], visit_day[starts + visits - 1]
    repeat_spend = np.add.reduceat(visit_amount, starts) - visit_amount[starts]
    end = (pd.Timestamp(as_of) + pd.Timedelta(days=1)).to_datetime64().astype(
        "datetime64[D]").astype(np.int64)
    year = day > end - 1 - 365
    customers = len(ids)
    out = pd.DataFrame({
        "customer_id": pd.Series(ids, dtype=str),
        "x": visits - 1,
        "t_x": (last - first) / DAYS_PER_UNIT,
        "T": (end - first) / DAYS_PER_UNIT,
        "mean_spend": np.divide(repeat_spend, visits - 1, out=np.zeros(customers),
                                where=visits > 1),
        "tenure_days": end - 1 - first,
        "spend_lifetime": np.bincount(codes, weights=amount, minlength=customers),
        "spend_365d": np.bincount(codes[year], weights=amount[year], minlength=customers),
    })
    return out if kept.all() else out[kept].reset_index(drop=True)


def fitting_sample(summary: pd.DataFrame, customers: int) -> pd.DataFrame:
    """The rows of at most `customers` customers, chosen by a hash of their id: the same
    customers at every date and in every run (while they are in the summary), whatever the
    row order; the whole summary when it is that small."""
    if len(summary) <= customers:
        return summary
    hashes = customer_hashes(summary["customer_id"])  # the shards' stable hash
    chosen = np.argsort(hashes, kind="stable")[:customers]
    return summary.iloc[np.sort(chosen)]


def _monthly_discounted_purchases(params, summary: pd.DataFrame, years: int,
                                  annual_rate: float) -> np.ndarray:
    months = np.arange(1, 12 * years + 1)
    cumulative = np.column_stack([np.zeros(len(summary))] + [
        expected_purchases(params, summary, m * 365.25 / 12) for m in months])
    increments = np.diff(cumulative, axis=1)
    discount = (1 + annual_rate) ** (-months / 12)
    return increments @ discount


def clv_estimates(tables: SourceTables, as_of: dt.date,
                  policy: AnalyticsPolicy | None = None, *, interval: bool = True,
                  residual: bool = True) -> pd.DataFrame:
    """CLV_COLUMNS for every customer of `purchase_summary` (see the module docstring).

    `revenue_12m_low/high`: the central `policy.interval` of the predictive distribution of
    their revenue in the horizon (left empty with `interval=False`: the Monte Carlo draws
    are the costly part, and value at risk needs the expectation only); `residual_value`
    left empty with `residual=False` (60 monthly expectations per customer, which neither
    value at risk nor the out-of-time check reads); `run_rate_12m`: the risk list's run-rate
    estimate.
    """
    return clv_from_summary(purchase_summary(tables, as_of), as_of, policy,
                            interval=interval, residual=residual)


def clv_from_summary(summary: pd.DataFrame, as_of: dt.date,
                     policy: AnalyticsPolicy | None = None, *, interval: bool = True,
                     residual: bool = True) -> pd.DataFrame:
    """`clv_estimates` from the `purchase_summary` at `as_of` (whole, or the customer
    shards' summaries joined by `joined_summaries`: the same frame)."""
    policy = policy or AnalyticsPolicy()
    if len(summary) < 10:
        raise ValueError(f"CLV needs at least 10 customers with purchases by {as_of}, "
                         f"found {len(summary)}")
    fit_on = fitting_sample(summary, policy.fit_customers)
    bg = fit_bgnbd(fit_on)
    gg = fit_gamma_gamma(fit_on["x"].to_numpy(), fit_on["mean_spend"].to_numpy())
    horizon = float(policy.clv_horizon_days)
    spend = expected_spend_per_purchase(gg, summary["x"], summary["mean_spend"])
    purchases = expected_purchases(bg, summary, horizon)
    alive = probability_alive(bg, summary)
    low, high = (_predictive_interval(bg, gg, summary, alive, horizon, policy) if interval
                 else (np.full(len(summary), np.nan), np.full(len(summary), np.nan)))
    out = summary[["customer_id", "x", "t_x", "T", "mean_spend"]].copy()
    out["p_alive"] = alive
    out["expected_purchases_12m"] = purchases
    out["expected_spend"] = spend
    out["expected_revenue_12m"] = purchases * spend
    out["revenue_12m_low"], out["revenue_12m_high"] = low, high
    out["residual_value"] = spend * _monthly_discounted_purchases(
        bg, summary, policy.residual_years, policy.annual_discount_rate) if residual \
        else np.nan
    out["run_rate_12m"] = expected_revenue_12m(summary).to_numpy()
    out.attrs["bgnbd"], out.attrs["gamma_gamma"] = vars(bg), vars(gg)
    out.attrs["fit_customers"] = len(fit_on)
    return out[CLV_COLUMNS]


def joined_summaries(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The `purchase_summary` of the whole base from its customer shards' summaries: each
    customer's row reads that customer's orders alone, so joining them in id order gives
    the whole summary, row for row."""
    kept = [part for part in parts if len(part)]
    if not kept:
        return parts[0] if parts else purchase_summary_columns()
    joined = pd.concat(kept, ignore_index=True)
    return joined.sort_values("customer_id", kind="stable", ignore_index=True)


def purchase_summary_columns() -> pd.DataFrame:
    """An empty `purchase_summary`."""
    return pd.DataFrame(columns=SUMMARY_COLUMNS)


def _predictive_interval(bg, gg, summary: pd.DataFrame, alive: np.ndarray, horizon: float,
                         policy: AnalyticsPolicy) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer quantiles of simulated horizon revenue. Alive at T with P(alive); then
    lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x); purchases = min(Poisson(lambda
    t), Geometric(p)) as each purchase may be the last; each worth Gamma(p_gg, nu) with
    nu ~ Gamma(p_gg x + q, gamma + x mean_spend)."""
    rng = np.random.default_rng(policy.seed)
    n, s = len(summary), policy.simulations
    x = summary["x"].to_numpy(float)[:, None]
    big_t = summary["T"].to_numpy(float)[:, None]
    total = x * summary["mean_spend"].to_numpy(float)[:, None]
    is_alive = rng.random((n, s)) < alive[:, None]
    lam = rng.gamma(bg.r + x, 1.0 / (bg.alpha + big_t), (n, s))
    # a business of regular payers fits a tiny `a`: beta draws underflow to 0, which would be
    # "never drops out"; the geometric draw needs a chance above 0
    drop = np.clip(np.nan_to_num(rng.beta(bg.a, bg.b + x, (n, s)), nan=1.0), 1e-12, 1.0)
    count = np.minimum(rng.poisson(lam * horizon / DAYS_PER_UNIT), rng.geometric(drop))
    count = np.where(is_alive, count, 0)
    nu = rng.gamma(gg.p * x + gg.q, 1.0 / (gg.gamma + total), (n, s))
    revenue = np.where(count > 0, rng.gamma(np.maximum(count, 1) * gg.p, 1.0 / nu), 0.0)
    tail = (1 - policy.interval) / 2
    return np.quantile(revenue, tail, axis=1), np.quantile(revenue, 1 - tail, axis=1)


def clv_cutoff(as_of: dt.date, policy: AnalyticsPolicy) -> dt.date:
    """Where the out-of-time comparison stands: one CLV horizon before `as_of`."""
    return as_of - dt.timedelta(days=policy.clv_horizon_days)


def clv_vs_run_rate(tables: SourceTables, as_of: dt.date,
                    policy: AnalyticsPolicy | None = None) -> pd.DataFrame:
    """COMPARISON_COLUMNS for `clv` and `run_rate`: both estimated at `clv_cutoff` from the
    history up to it, judged on the same customers by their completed revenue in the
    horizon after it (known by `as_of`). `total_error_share` = (predicted - actual) / actual
    over all customers; `mae`, `rmse` per customer. Empty when there is too little history
    before the cutoff."""
    policy = policy or AnalyticsPolicy()
    cutoff = clv_cutoff(as_of, policy)
    return estimates_compared(purchase_summary(tables, cutoff),
                              revenue_after(tables, cutoff, as_of, policy), cutoff, policy)


def revenue_after(tables: SourceTables, cutoff: dt.date, as_of: dt.date,
                  policy: AnalyticsPolicy) -> pd.Series:
    """Completed revenue per customer (those with any) in the CLV horizon after `cutoff`,
    as known by `as_of`: what the out-of-time check judges the estimates on."""
    orders = completed_orders(point_in_time(tables, as_of).purchases)
    after = orders[(orders["day"] > pd.Timestamp(cutoff))
                   & (orders["day"] <= pd.Timestamp(cutoff) + pd.Timedelta(
                       days=policy.clv_horizon_days))]
    return after.groupby("customer_id")["amount"].sum()


def estimates_compared(summary: pd.DataFrame, actual: pd.Series, cutoff: dt.date,
                       policy: AnalyticsPolicy) -> pd.DataFrame:
    """`clv_vs_run_rate` from the `purchase_summary` at `cutoff` and `revenue_after` it."""
    try:
        # the comparison judges the expectations only: no Monte Carlo interval (it runs in
        # every scoring run, where value at risk picks its estimate)
        estimated = clv_from_summary(summary, cutoff, policy, interval=False, residual=False)
    except ValueError:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    truth = estimated["customer_id"].map(actual).fillna(0.0).to_numpy()
    rows = []
    for name, column in zip(ESTIMATES, ("expected_revenue_12m", "run_rate_12m"), strict=True):
        predicted = estimated[column].to_numpy(float)
        error = predicted - truth
        rows.append({
            "estimate": name, "customers": len(truth), "predicted_total": predicted.sum(),
            "actual_total": truth.sum(),
            "total_error_share": error.sum() / truth.sum() if truth.sum() else np.nan,
            "mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error ** 2).mean())),
        })
    out = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    out.attrs["cutoff"] = str(cutoff)
    return out


@dataclass(frozen=True)
class RevenueEstimate:
    """The 12-month revenue that value at risk multiplies: the method, the out-of-time
    evidence it was chosen on, and (for `clv`) each customer's estimate by customer id."""

    method: str  # "clv" or "run_rate"
    evidence: dict[str, float | int | str] = field(default_factory=dict)
    per_customer: pd.Series | None = None


@dataclass(frozen=True)
class ValueInputs:
    """What the value estimate reads of the orders, each a function of every customer's own
    orders alone, so a customer shard's inputs are the whole base's rows of that shard:
    the `purchase_summary` at `clv_cutoff` and at `as_of`, and the `revenue_after` the
    cutoff."""

    summary_then: pd.DataFrame
    revenue_after: pd.Series
    summary_now: pd.DataFrame


def value_inputs(tables: SourceTables, as_of: dt.date,
                 policy: AnalyticsPolicy | None = None) -> ValueInputs:
    """`ValueInputs` of `tables` (the whole base, or one customer shard of it)."""
    policy = policy or AnalyticsPolicy()
    cutoff = clv_cutoff(as_of, policy)
    return ValueInputs(purchase_summary(tables, cutoff),
                       revenue_after(tables, cutoff, as_of, policy),
                       purchase_summary(tables, as_of))


def joined_value_inputs(parts: Sequence[ValueInputs]) -> ValueInputs:
    """The whole base's `ValueInputs` from its customer shards' (disjoint customers)."""
    revenue = [part.revenue_after for part in parts if len(part.revenue_after)]
    return ValueInputs(
        joined_summaries([part.summary_then for part in parts]),
        pd.concat(revenue) if revenue else pd.Series(dtype=float),
        joined_summaries([part.summary_now for part in parts]))


def chosen_revenue_estimate(tables: SourceTables, as_of: dt.date,
                            policy: AnalyticsPolicy | None = None) -> RevenueEstimate:
    """The estimate that predicted the past better: both are made one horizon before `as_of`
    and judged on the revenue that followed (`clv_vs_run_rate`); CLV is used when its error
    per customer is lower, else the run-rate (also when there is too little history to
    compare, or CLV cannot be fitted). For CLV, `per_customer` is the 12-month revenue of a
    customer who stays (see below), the quantity the run-rate also stands for. Reads nothing
    after `as_of`."""
    return estimate_from_inputs(value_inputs(tables, as_of, policy), as_of, policy)


def estimate_from_inputs(inputs: ValueInputs, as_of: dt.date,
                         policy: AnalyticsPolicy | None = None) -> RevenueEstimate:
    """`chosen_revenue_estimate` from the orders' `ValueInputs` (whole or joined)."""
    policy = policy or AnalyticsPolicy()
    comparison = estimates_compared(inputs.summary_then, inputs.revenue_after,
                                    clv_cutoff(as_of, policy), policy)
    if comparison.empty:
        return RevenueEstimate("run_rate", {"why": "too little history to compare"})
    by_name = comparison.set_index("estimate")
    clv_mae = round(float(by_name.loc["clv", "mae"]), 2)
    run_rate_mae = round(float(by_name.loc["run_rate", "mae"]), 2)
    evidence: dict[str, float | int | str] = {
        "cutoff": comparison.attrs.get("cutoff", ""),
        "customers": int(by_name.loc["clv", "customers"]),
        "clv_mae": clv_mae, "run_rate_mae": run_rate_mae}
    if not clv_mae < run_rate_mae:
        return RevenueEstimate("run_rate", evidence)
    try:
        estimates = clv_from_summary(inputs.summary_now, as_of, policy, interval=False,
                                     residual=False)
    except ValueError:
        return RevenueEstimate("run_rate", evidence | {"why": "CLV could not be fitted"})
    # Value at risk is P(churn) x what the customer brings *if they stay*. BG/NBD's 12-month
    # expectation already weighs in its own chance that the customer has gone (E = P(alive)
    # x E[revenue | alive]), so the list takes the expectation given alive: the churn model's
    # probability must not be counted a second time.
    indexed = estimates.set_index(estimates["customer_id"].astype(str))
    if_staying = indexed["expected_revenue_12m"] / indexed["p_alive"].clip(lower=MIN_P_ALIVE)
    evidence["fit_customers"] = int(estimates.attrs["fit_customers"])  # the fit's sample
    return RevenueEstimate("clv", evidence, if_staying.astype(float))


def revenue_last_year(tables: SourceTables, as_of: dt.date) -> pd.Series:
    """Completed revenue per customer in the 365 days up to `as_of` (customers with any)."""
    purchases = point_in_time(tables, as_of).purchases
    stop = pd.Timestamp(as_of)
    # the year's rows of the columns read before the completed orders are copied: all the
    # orders ever, copied first, were the peak of a million customers' scoring run (+1.2 GB)
    recent = (to_naive_utc(purchases["order_date"]).dt.normalize()
              > stop - pd.Timedelta(days=365)).to_numpy()
    year = completed_orders(purchases.loc[recent, [*ORDER_COLUMNS, "status"]])
    revenue = year.groupby("customer_id")["amount"].sum()  # in id order
    # largest first, ties in id order: the same series whatever order the customers came in
    return revenue[revenue > 0].sort_values(ascending=False, kind="stable")


def joined_revenue(parts: Sequence[pd.Series]) -> pd.Series:
    """`revenue_last_year` of the whole base from its customer shards' series."""
    kept = [part for part in parts if len(part)]
    if not kept:
        return parts[0] if parts else pd.Series(dtype=float)
    return pd.concat(kept).sort_index(kind="stable").sort_values(ascending=False,
                                                                 kind="stable")


def pareto_curve(revenue: pd.Series, points: int = 101) -> pd.DataFrame:
    """`customer_share, revenue_share`: the cumulative share of revenue held by the top
    `customer_share` of customers (largest first), at `points` evenly spaced shares."""
    values = np.sort(revenue.to_numpy(float))[::-1]
    shares = np.linspace(0, 1, points)
    if values.size == 0 or values.sum() <= 0:
        return pd.DataFrame({"customer_share": shares, "revenue_share": np.nan})
    cumulative = np.concatenate([[0.0], np.cumsum(values)]) / values.sum()
    positions = shares * values.size
    return pd.DataFrame({"customer_share": shares,
                         "revenue_share": np.interp(positions, np.arange(values.size + 1),
                                                    cumulative)})


def top_customers(revenue: pd.Series, share: float) -> pd.Series:
    """The largest ceil(share x n) customers by revenue (ties broken by customer id)."""
    if revenue.empty:
        return revenue
    ordered = revenue.sort_index().sort_values(ascending=False, kind="stable")
    return ordered.head(int(np.ceil(share * len(ordered))))


def top_share_of_revenue(revenue: pd.Series, share: float) -> float:
    """The share of revenue held by `top_customers(revenue, share)`."""
    total = revenue.sum()
    return float(top_customers(revenue, share).sum() / total) if total > 0 else float("nan")


def top_revenue_by_tier(revenue: pd.Series, risk: pd.DataFrame, share: float,
                        tiers: list[str]) -> pd.DataFrame:
    """`tier, customers, revenue, revenue_share`: how the top customers' revenue splits over
    the risk tiers of a scored list (`customer_id, risk_tier`), in `tiers` order; customers
    the list does not hold are `(not scored)`."""
    top = top_customers(revenue, share)
    tier = top.index.to_series().map(risk.set_index("customer_id")["risk_tier"])
    tier = tier.fillna("(not scored)")
    frame = pd.DataFrame({"tier": tier.to_numpy(), "revenue": top.to_numpy()})
    grouped = frame.groupby("tier")["revenue"].agg(customers="size", revenue="sum")
    order = [t for t in [*tiers, "(not scored)"] if t in grouped.index]
    grouped = grouped.reindex(order).reset_index()
    grouped["revenue_share"] = grouped["revenue"] / top.sum() if top.sum() > 0 else np.nan
    return grouped

