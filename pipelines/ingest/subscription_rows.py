"""The subscription-specific part of staging: billing periods in words, money and seats.

Called by `staging.stage_rows` for `subscriptions` exports. Billing systems write the period
as a word (`month`, `monthly`, `yearly`, `aylık`, `jaarlijks`) or as a count with a unit
(`1 month`, `12 months`, `3 maanden`); both become one of `BILLING_PERIOD_MONTHS`. A period
the contract does not know (weekly, daily plans) quarantines its row: renewals at such a
period are not modelled, and guessing a month would mislabel every renewal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from features.contracts import BILLING_PERIOD_MONTHS
from pipelines.ingest.cells import cell_text, map_unique, parse_numbers
from pipelines.ingest.headers import fold_header

#: folded period word -> canonical billing period (en, tr, nl)
PERIOD_WORDS: dict[str, str] = {
    "month": "month", "months": "month", "monthly": "month", "mo": "month", "mnd": "month",
    "aylik": "month", "ay": "month", "maand": "month", "maandelijks": "month",
    "maanden": "month", "permonth": "month",
    "quarter": "quarter", "quarterly": "quarter", "ucaylik": "quarter", "kwartaal": "quarter",
    "perkwartaal": "quarter", "driemaandelijks": "quarter",
    "halfyear": "half_year", "halfyearly": "half_year", "semiannual": "half_year",
    "altiaylik": "half_year", "halfjaar": "half_year", "halfjaarlijks": "half_year",
    "year": "year", "years": "year", "yearly": "year", "annual": "year", "annually": "year",
    "yillik": "year", "yil": "year", "jaar": "year", "jaarlijks": "year", "peryear": "year",
}
_COUNTED = re.compile(r"^\s*(\d{1,2})\s*([^\d\s].*)$")
_MONTHS_TO_PERIOD = {months: period for period, months in BILLING_PERIOD_MONTHS.items()}
NUMBER_COLUMNS = ("mrr", "seats", "discount")


def billing_periods(values: pd.Series) -> pd.Series:
    """Canonical billing periods from the words or counts exports use; None where unknown."""
    def one(value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        counted = _COUNTED.match(value)
        if counted:
            unit = PERIOD_WORDS.get(fold_header(counted.group(2)))
            months = {"month": 1, "year": 12}.get(unit or "")
            return _MONTHS_TO_PERIOD.get(int(counted.group(1)) * months) if months else None
        return PERIOD_WORDS.get(fold_header(value))
    periods = map_unique(cell_text(values), one).astype(object)
    return periods.where(periods.notna(), None)


def stage_subscription_columns(frame: pd.DataFrame, locale: str, styles: dict[str, str],
                               flag: Callable, converted: Callable) -> None:
    """Convert a subscriptions frame's period, money and seat columns in place; `styles`
    holds number styles decided beforehand (a file read in chunks), `flag` quarantines rows
    (see `stage_rows`), `converted` wraps a column-level conversion."""
    for column in NUMBER_COLUMNS:
        if column in frame:
            frame[column] = converted(
                column, lambda c=column: (*parse_numbers(frame[c], locale, styles.get(c)), None),
                f"{column} is not a number")
            flag(frame[column] < 0, f"negative {column}")
    if "billing_period" in frame:
        periods = billing_periods(frame["billing_period"])
        said = cell_text(frame["billing_period"])
        flag(said.notna() & periods.isna(),
             "unknown billing period (known: " + ", ".join(BILLING_PERIOD_MONTHS) + ")")
        frame["billing_period"] = periods
    for column in ("plan", "status", "channel"):
        if column in frame:
            frame[column] = cell_text(frame[column])
    if "ended_at" in frame:
        flag(frame["ended_at"].notna() & (frame["ended_at"] < frame["started_at"]),
             "ended before it started")
