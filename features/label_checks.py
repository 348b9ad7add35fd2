"""Does a label contradict the data? Churners who were still customers.

A "churner" is still a customer when they paid again after the label window (renewed later),
or, in a business that records cancellations (the customer master's `cancelled_at`, a
subscriptions export), never cancelled up to the end of the data. Both mean the label does
not fit the business: a window too short for the billing period (the 31-day month that turned
monthly payers who paid on the cutoff day into churners; a yearly payer is silent for eleven
months), or "no purchase" where customers hold a contract. Counted on the cutoffs with at
least `LOOK_AFTER_DAYS` of data after their label window; how many of them paid at the cutoff
is stated beside. Training refuses a contractual business's labels above `REFUSE_SHARE`
unless forced; a shop's churners may come back, which is reported only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from features.labels import LabelSpec

LOOK_AFTER_DAYS = 45  # at least a monthly renewal plus its grace after the window's end
PAID_AT_CUTOFF_DAYS = 3  # "paid at the cutoff": a payment on c or up to 2 days before
REFUSE_SHARE = 0.2


@dataclass(frozen=True)
class LabelCheck:
    churners: int  # churners on the checked cutoffs
    paid_again: int  # of them: a completed payment after the window (to the data's end)
    never_cancelled: int | None  # of them: no cancellation to the data's end (None: the
    #                              business records no cancellations)
    still_customers: int  # either of the two
    paid_at_cutoff: int  # of the still-customers: a payment at the cutoff
    cutoffs: tuple[str, ...]  # the cutoffs checked

    @property
    def share(self) -> float:
        return self.still_customers / self.churners if self.churners else 0.0

    @property
    def contradicts(self) -> bool:
        return self.share > REFUSE_SHARE

    def message(self) -> str:
        if not self.cutoffs:
            return (f"no cutoff has {LOOK_AFTER_DAYS} days of data after its label window: "
                    "whether churners were still customers cannot be checked")
        never = ("" if self.never_cancelled is None
                 else f", {self.never_cancelled} never cancelled")
        return (f"{self.share:.0%} of the churners ({self.still_customers} of {self.churners} "
                f"on {len(self.cutoffs)} cutoff(s)) were still customers: {self.paid_again} "
                f"paid again after their label window{never}; {self.paid_at_cutoff} of them "
                "paid at the cutoff")


def _cancelled_by(customers: pd.DataFrame | None, subscriptions: pd.DataFrame | None
                  ) -> pd.Series | None:
    """Each customer's first recorded cancellation day; None when nothing records any."""
    from features.build import to_naive_utc

    days = []
    if customers is not None and "cancelled_at" in customers:
        days.append(pd.DataFrame({"customer_id": customers["customer_id"].astype(str),
                                  "day": to_naive_utc(customers["cancelled_at"])}))
    if subscriptions is not None and len(subscriptions):
        for column in ("cancelled_at", "ended_at"):
            days.append(pd.DataFrame({"customer_id": subscriptions["customer_id"].astype(str),
                                      "day": to_naive_utc(subscriptions[column])}))
    known = pd.concat(days).dropna() if days else pd.DataFrame(columns=["customer_id", "day"])
    return known.groupby("customer_id")["day"].min() if len(known) else None


def churners_still_customers(model_input: pd.DataFrame, purchases: pd.DataFrame,
                             spec: LabelSpec, data_end: dt.date,
                             customers: pd.DataFrame | None = None,
                             subscriptions: pd.DataFrame | None = None) -> LabelCheck:
    """The check over `model_input` (`customer_id, cutoff, churned`)."""
    from features.build import to_naive_utc

    done = purchases[purchases["status"] == "completed"]
    paid = pd.DataFrame({"customer_id": done["customer_id"].astype(str),
                         "day": to_naive_utc(done["order_date"]).dt.normalize()})
    cancelled = _cancelled_by(customers, subscriptions)
    churners = paid_again = never = still = at_cutoff = 0
    checked = []
    for cutoff, rows in model_input.groupby("cutoff"):
        c = pd.Timestamp(cutoff).date()
        end = spec.window_end(c)
        if end + dt.timedelta(days=LOOK_AFTER_DAYS) > data_end:
            continue
        checked.append(str(c))
        lost = set(rows.loc[rows["churned"] == 1, "customer_id"].astype(str))
        again = lost & set(paid.loc[paid["day"] > pd.Timestamp(end), "customer_id"])
        staying = again
        if cancelled is not None:
            gone = set(cancelled.index[cancelled > pd.Timestamp(c)])
            never += len(lost - gone)
            staying = again | (lost - gone)
        near = paid[(paid["day"] <= pd.Timestamp(c))
                    & (paid["day"] > pd.Timestamp(c - dt.timedelta(days=PAID_AT_CUTOFF_DAYS)))]
        churners += len(lost)
        paid_again += len(again)
        still += len(staying)
        at_cutoff += len(staying & set(near["customer_id"]))
    return LabelCheck(churners, paid_again, None if cancelled is None else never, still,
                      at_cutoff, tuple(checked))
