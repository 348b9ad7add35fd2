"""Churn labels: what happens strictly after the cutoff.

Two definitions, chosen per business:
- `no_purchase` (non-contractual retail, the default): an eligible customer makes no completed
  purchase with a date in (c + g, c + g + H], or cancels with a date in (c, c + g + H].
- `cancellation` (contractual): the customer master records a cancellation dated in
  (c, c + g + H]; purchases do not matter.
- `renewal` (contractual, billed subscriptions): cancelled in (c, c + g + H] (customer master,
  or every subscription stopped), or a renewal due in the window not paid: from the last
  payment on or before c, a renewal falls due every billing period (calendar months) and must
  be paid within a grace period (`features.renewals`). The window must hold at least one
  monthly period plus that grace (`MIN_RENEWAL_HORIZON_DAYS`), so "no payment in a window no
  longer than the billing period" can never be the label.
H is the horizon and g an optional gap (days between cutoff and label window, e.g. the time a
retention action needs).
Eligible at c: at least one completed purchase on or before c and not cancelled by then.
The label window's last day is included; the cutoff day itself belongs to the features.

`LabelSpec` holds the definition, H and g as one typed value: it travels with the model (the
training parameters, the registered model's metadata, the scoring run) so that everything
which states or uses the definition reads the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:  # pandas is imported where labels are computed: the CLI reads LabelSpec's
    import numpy as np  # defaults at import time, and `churn --help` stays instant
    import pandas as pd

ChurnDefinition = Literal["no_purchase", "cancellation", "renewal"]
CHURN_DEFINITIONS: tuple[str, ...] = get_args(ChurnDefinition)
#: The shortest `renewal` window: the longest month plus the grace a renewal gets
#: (`features.renewals.RENEWAL_GRACE_DAYS`, repeated here so the CLI stays light; a test
#: keeps the two in step).
MIN_RENEWAL_HORIZON_DAYS = 31 + 14


class CensoredCutoffError(ValueError):
    """The label window of a cutoff runs past the end of the data, so its labels are unknown."""


class LabelSpec(BaseModel):
    """What "churned" means for a model: the definition and its window (see the module doc).

    The only place the defaults are declared (no_purchase, 90-day horizon, no gap).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    definition: ChurnDefinition = Field(
        "no_purchase",
        description="no_purchase: no completed order in the window (or a cancellation); "
        "cancellation: contractual churn, a cancellation in the window only; renewal: "
        "subscriptions, cancelled or a renewal due in the window not paid.",
    )
    horizon_days: int = Field(90, ge=7, description="Days of the label window.")
    gap_days: int = Field(0, ge=0, description="Days between a cutoff and its label window.")

    @model_validator(mode="after")
    def _renewal_window_holds_a_period(self) -> LabelSpec:
        if self.definition == "renewal" and self.horizon_days < MIN_RENEWAL_HORIZON_DAYS:
            raise ValueError(
                f"the renewal definition needs a window of at least {MIN_RENEWAL_HORIZON_DAYS} "
                f"days (a monthly billing period plus the payment grace), not "
                f"{self.horizon_days}: a shorter one calls a customer who paid at the cutoff "
                "a churner")
        return self

    @property
    def contractual(self) -> bool:
        """Whether churn is a cancellation or a lapsed contract rather than silence."""
        return self.definition in ("cancellation", "renewal")

    @property
    def span_days(self) -> int:
        """Days from a cutoff to the last day of its label window (gap + horizon)."""
        return self.gap_days + self.horizon_days

    def window_start(self, cutoff: dt.date) -> dt.date:
        """First calendar day whose purchases count for the label of `cutoff`: c + g + 1."""
        return cutoff + dt.timedelta(days=self.gap_days + 1)

    def window_end(self, cutoff: dt.date) -> dt.date:
        """Last calendar day of the label window of `cutoff` (included): c + g + H."""
        return cutoff + dt.timedelta(days=self.span_days)

    def cancellation_start(self, cutoff: dt.date) -> dt.date:
        """First calendar day whose cancellations count: c + 1, whatever the gap (a customer
        who cancels during the gap is lost all the same)."""
        return cutoff + dt.timedelta(days=1)

    def last_labelled_cutoff(self, data_end: dt.date) -> dt.date:
        """The latest cutoff whose label window ends by `data_end`: data_end - g - H."""
        return data_end - dt.timedelta(days=self.span_days)

    def is_labelled(self, cutoff: dt.date, data_end: dt.date) -> bool:
        """Whether the label window of `cutoff` has ended by `data_end` (no censoring)."""
        return self.window_end(cutoff) <= data_end

    @property
    def file_tag(self) -> str:
        """Model-input snapshot name part: `h90`, `h90_g30`, `h60_cancellation`, ...

        Snapshots of different label settings must not overwrite each other.
        """
        return (f"h{self.horizon_days}" + (f"_g{self.gap_days}" if self.gap_days else "")
                + ("" if self.definition == "no_purchase" else f"_{self.definition}"))


def churn_labels(
    eligible_customers: pd.Series,
    purchases: pd.DataFrame,
    as_of: dt.date,
    spec: LabelSpec,
    *,
    data_end: dt.date,
    customers: pd.DataFrame | None = None,
    subscriptions: pd.DataFrame | None = None,
    buyers: Collection | pd.Index | None = None,
) -> pd.DataFrame:
    """`customer_id, churned` (0/1) for the given eligible customers at `as_of`.

    Raises `CensoredCutoffError` when the window ends after `data_end`, the last day the data
    covers: an unseen future must never be read as "no purchase". `subscriptions` count only
    for the `renewal` definition (their cancellations and billing periods). `buyers`: for
    `no_purchase`, the customers with a completed purchase in the window when the caller
    has them already (`window_buyers`), else they are read from `purchases`.
    """
    import pandas as pd

    from features.build import to_naive_utc
    from features.membership import is_in
    from features.renewals import billing_months, subscription_cancelled, unpaid_renewal

    has_master = customers is not None and "cancelled_at" in customers
    if spec.definition == "cancellation" and not has_master:
        raise ValueError(
            "the 'cancellation' churn definition needs a customer master with cancelled_at; "
            "supply a customers export or use the 'no_purchase' definition"
        )
    window_end = spec.window_end(as_of)
    if not spec.is_labelled(as_of, data_end):
        gap = f" after a {spec.gap_days}-day gap" if spec.gap_days else ""
        raise CensoredCutoffError(
            f"cutoff {as_of} needs data up to {window_end} for a {spec.horizon_days}-day "
            f"label{gap}, but the data ends on {data_end}"
        )
    start, stop = label_window(as_of, spec)
    if spec.definition == "cancellation":
        churned = pd.Series(False, index=eligible_customers.index)
    elif spec.definition == "renewal":
        months = billing_months(eligible_customers, purchases, as_of, subscriptions)
        churned = unpaid_renewal(eligible_customers, purchases, as_of, window_end, months)
        churned |= subscription_cancelled(eligible_customers, subscriptions, as_of, window_end)
    else:
        if buyers is None:
            order_day = to_naive_utc(purchases["order_date"])
            in_window = ((order_day >= start) & (order_day < stop)
                         & (purchases["status"] == "completed"))
            buyers = purchases.loc[in_window, "customer_id"].unique()
        # membership by Arrow's hash table (`features.membership`), not a Python set: over
        # 20 M orders a set of Python strings was most of a retention-rate table's time
        churned = pd.Series(~is_in(eligible_customers, buyers), index=eligible_customers.index)
    if customers is not None and has_master and len(customers):
        cancel_day = to_naive_utc(customers["cancelled_at"])
        after = pd.Timestamp(spec.cancellation_start(as_of))
        cancelled = customers.loc[(cancel_day >= after) & (cancel_day < stop), "customer_id"]
        churned |= is_in(eligible_customers, cancelled.unique())
    return pd.DataFrame(
        {"customer_id": eligible_customers.to_numpy(), "churned": churned.astype(int).to_numpy()}
    )


def label_window(as_of: dt.date, spec: LabelSpec) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The label window of `as_of` as naive UTC instants [start, stop): midnights, so a
    purchase's day or its timestamp falls inside alike."""
    import pandas as pd

    return (pd.Timestamp(spec.window_start(as_of)),
            pd.Timestamp(spec.window_end(as_of) + dt.timedelta(days=1)))


def window_buyers(days: np.ndarray, codes: np.ndarray, ids: pd.Index, as_of: dt.date,
                  spec: LabelSpec) -> pd.Index:
    """The customers with a completed purchase in the label window of `as_of`: what
    `churn_labels` reads of the purchases under `no_purchase`, for a caller that labels at
    many cutoffs and has coded its completed orders once (`days`: each order's naive UTC
    day or timestamp, `codes`: its customer's position in `ids`). Each cutoff's scan of all
    the orders by `churn_labels` itself was most of a year's retention table at 20 M orders.
    """
    import numpy as np

    start, stop = label_window(as_of, spec)
    inside = (days >= start.to_datetime64()) & (days < stop.to_datetime64())
    bought = np.zeros(len(ids), bool)
    bought[codes[inside]] = True
    return ids[bought]
