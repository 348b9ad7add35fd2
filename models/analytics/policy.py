"""The analytics' typed defaults, declared once, and the point-in-time cut of the inputs."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.labels import LabelSpec
from features.renewals import subscriptions_known_at
from features.sources import SourceTables
from features.sql import RATING_DELAY_DAYS

Period = Literal["month", "quarter"]


class AnalyticsPolicy(BaseModel):
    """What `churn analyze` measures and over which windows (see the README's Analytics)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: Period = Field("month", description="Period of the rates and KPIs: month or quarter.")
    n_periods: int = Field(12, ge=1, le=60, description="Periods shown, newest last.")
    label: LabelSpec = Field(default_factory=LabelSpec,
                             description="The churn definition (the model's, when one exists).")
    active_days: int = Field(365, ge=30, description="Active at c: a completed order in this "
                             "many days up to c (the base whose churn is measured).")
    tenure_bands_days: tuple[int, ...] = Field(
        (90, 365, 730), description="Tenure band edges in days since the first purchase.")
    cohort_months: int = Field(12, ge=1, le=60, description="Months since first purchase shown.")
    sla_hours: float = Field(48.0, gt=0, description="A complaint resolved within this many "
                             "hours of opening meets the SLA.")
    resolution_bands_days: tuple[float, float] = Field(
        (1.0, 7.0), description="Edges of the resolution-time bands: <= first, up to second, "
        "over second, never (not resolved by the as-of date).")
    complaint_lookback_days: int = Field(90, ge=1, description="Complaints opened in this many "
                                         "days up to a cutoff put a customer in a band.")
    response_window_days: int = Field(7, ge=1, description="An outbound contact counts as "
                                      "answered by an inbound contact or an order within it.")
    clv_horizon_days: int = Field(365, ge=30, description="Expected revenue horizon.")
    residual_years: int = Field(5, ge=1, le=20, description="Residual lifetime value horizon.")
    annual_discount_rate: float = Field(0.10, ge=0, lt=1, description="Discounts residual value.")
    interval: float = Field(0.80, gt=0, lt=1, description="Central predictive interval of CLV.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Wilson interval of churn rates.")
    top_share: float = Field(0.20, gt=0, lt=1, description="The top share of customers by "
                             "revenue whose concentration is reported.")
    simulations: int = Field(400, ge=50, description="Monte Carlo draws per customer (interval).")
    fit_customers: int = Field(
        100_000, ge=1_000, description="BG/NBD and Gamma-Gamma are fitted on at most this many "
        "customers, the same ones at every date (a hash of the id picks them); every customer is "
        "still estimated. The parameters describe the population: more customers barely move "
        "them, and the fit's cost grows with each one.")
    seed: int = 7

    @model_validator(mode="after")
    def _ordered_bands(self) -> AnalyticsPolicy:
        low, high = self.resolution_bands_days
        if not 0 < low < high:
            raise ValueError("resolution_bands_days must be two increasing positive numbers")
        if list(self.tenure_bands_days) != sorted(set(self.tenure_bands_days)):
            raise ValueError("tenure_bands_days must increase")
        return self


def end_of_day(as_of: dt.date) -> pd.Timestamp:
    """The first instant after `as_of` (UTC): events strictly before it are known."""
    return pd.Timestamp(as_of + dt.timedelta(days=1), tz="UTC")


def point_in_time(tables: SourceTables, as_of: dt.date) -> SourceTables:
    """The tables as they stood at the end of `as_of`: later events dropped, later
    resolutions unknown (the complaint is still open), ratings known only from
    RATING_DELAY_DAYS after the resolution (as the features count them), cancellations after
    `as_of` unknown. The export-time `status` of a complaint is never read."""
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise TypeError(f"as_of must be a datetime.date, not {type(as_of).__name__}")
    tables = tables.validated()
    stop = end_of_day(as_of)
    purchases = rows_before(tables.purchases, "order_date", stop)
    complaints = interactions = customers = None
    if tables.complaints is not None:
        complaints = rows_before(tables.complaints, "opened_at", stop)
        later = complaints["resolved_at"] >= stop
        complaints.loc[later, "resolved_at"] = pd.NaT
        known = complaints["resolved_at"] + pd.Timedelta(days=RATING_DELAY_DAYS) < stop
        complaints.loc[~known.fillna(False), "satisfaction"] = float("nan")
        complaints["status"] = None
    if tables.interactions is not None:
        interactions = rows_before(tables.interactions, "occurred_at", stop)
    if tables.customers is not None:
        customers = tables.customers.copy(deep=False)  # copy-on-write: columns set below only
        customers.loc[customers["cancelled_at"] >= stop, "cancelled_at"] = pd.NaT
        customers.loc[customers["signup_date"] >= stop, "signup_date"] = pd.NaT
    return SourceTables(purchases, complaints, interactions, customers,
                        subscriptions=subscriptions_known_at(tables.subscriptions, stop),
                        checked=True)


def rows_before(frame: pd.DataFrame, column: str, stop: pd.Timestamp) -> pd.DataFrame:
    """The rows of `frame` whose `column` is before `stop`, as a frame of its own.

    On the usual date (the end of the data) that is every row: the frame is then shared
    (pandas copies a column only when the caller sets it), not copied, because the copy of a
    large purchase table would be made again by every analytic that cuts the tables."""
    known = frame[column] < stop
    return frame.copy(deep=False) if bool(known.all()) else frame[known]
