"""Is the business contractual (customers hold a subscription they cancel or stop paying) or
non-contractual (customers simply stop buying)? A pure verdict with its evidence in words.

Contractual when
- there is a subscriptions table with rows, or
- most repeat payers pay at a billing period (`features.renewals.cadence_months`: their
  recent payments repeat monthly, quarterly, half-yearly or yearly) with the same amount
  most of the time, and the customer master records cancellations (or almost every repeat
  payer is that regular, `_REGULAR_ALONE`).
The verdict chooses the churn definition when the user gives none (`default_definition`):
`renewal` for a contractual business, else `no_purchase`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from features.labels import ChurnDefinition
from features.sources import SourceTables

_MIN_PAYMENTS = 3  # a customer with fewer payments shows no cadence
_REGULAR_SHARE = 0.5  # of repeat payers, with cancellations in the master
_REGULAR_ALONE = 0.8  # of repeat payers, without them
_SAME_AMOUNT_SHARE = 0.6  # consecutive payments of the same amount (upgrades change some)
_PERIOD_NAMES = {1: "monthly", 3: "quarterly", 6: "half-yearly", 12: "yearly"}


@dataclass(frozen=True)
class BillingVerdict:
    """Contractual or not, the usual billing period (months; None when unknown) and why."""

    contractual: bool
    billing_months: int | None
    evidence: tuple[str, ...]

    @property
    def business(self) -> str:
        return "contractual" if self.contractual else "non-contractual"

    def summary(self) -> str:
        return f"{self.business}: " + "; ".join(self.evidence)

    def as_dict(self) -> dict[str, object]:
        return {"business": self.business, "billing_months": self.billing_months,
                "evidence": list(self.evidence), "summary": self.summary()}


def default_definition(verdict: BillingVerdict) -> ChurnDefinition:
    """The churn definition for a business when the user chose none."""
    return "renewal" if verdict.contractual else "no_purchase"


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "0%"


def detect_billing(tables: SourceTables, as_of: dt.date | None = None) -> BillingVerdict:
    """The verdict from the tables (up to the end of `as_of`, default: all of them)."""
    from features.renewals import cadence_months

    purchases = tables.purchases
    end = as_of or tables.last_event_date().date()
    done = purchases[purchases["status"] == "completed"]
    counts = done.groupby("customer_id").size()
    repeat = counts.index[counts >= _MIN_PAYMENTS]
    cadence = cadence_months(done[done["customer_id"].isin(repeat)], end)
    same = _same_amount_share(done[done["customer_id"].isin(cadence.index)])
    regular = cadence[same.reindex(cadence.index).fillna(0) >= _SAME_AMOUNT_SHARE]
    usual = int(regular.mode().iloc[0]) if len(regular) else None
    evidence = [f"{len(regular)} of {len(repeat)} customers with {_MIN_PAYMENTS}+ payments "
                f"({_share(len(regular), len(repeat))}) pay the same amount at a billing "
                "period" + (f", most {_PERIOD_NAMES[usual]}" if usual else "")]
    master = tables.customers
    cancelled = (0 if master is None or "cancelled_at" not in master
                 else int(master["cancelled_at"].notna().sum()))
    if master is not None:
        evidence.append(f"the customer master records {cancelled} cancellation(s)")
    subs = tables.subscriptions
    if subs is not None and len(subs):
        periods = subs["billing_period"].value_counts(normalize=True)
        mix = ", ".join(f"{share:.0%} {period}" for period, share in periods.items())
        evidence.insert(0, f"a subscriptions export with {len(subs)} subscriptions of "
                        f"{subs['customer_id'].nunique()} customers"
                        + (f" ({mix})" if mix else ""))
        from features.contracts import BILLING_PERIOD_MONTHS

        top = periods.index[0] if len(periods) else None
        return BillingVerdict(True, BILLING_PERIOD_MONTHS.get(str(top), usual), tuple(evidence))
    share = len(regular) / len(repeat) if len(repeat) else 0.0
    contractual = share >= _REGULAR_ALONE or (share >= _REGULAR_SHARE and cancelled > 0)
    return BillingVerdict(contractual, usual if contractual else None, tuple(evidence))


def _same_amount_share(payments: pd.DataFrame) -> pd.Series:
    """Per customer: the share of consecutive payments (by date) with the same amount."""
    ordered = payments.sort_values(["customer_id", "order_date"])
    previous = ordered.groupby("customer_id")["amount"].shift()
    same = (ordered["amount"] - previous).abs() < 0.005
    return same[previous.notna()].groupby(ordered.loc[previous.notna(), "customer_id"]).mean()
