"""Does a label contradict the data? Churners who were paying customers all along.

A "churner" who paid on (or just before) the cutoff and paid again soon after the label window
was never lost: the window was too short for the billing period, or the definition does not
fit the business (the 31-day month that turned monthly payers into churners). Counted on the
cutoffs whose following `LOOK_AFTER_DAYS` lie inside the data; training warns at any share and
refuses above `REFUSE_SHARE` unless forced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from features.labels import LabelSpec

LOOK_AFTER_DAYS = 45  # a monthly renewal plus its grace after the window's end
PAID_AT_CUTOFF_DAYS = 3  # "paid at the cutoff": a payment on c or up to 2 days before
REFUSE_SHARE = 0.2


@dataclass(frozen=True)
class LabelCheck:
    churners: int  # churners on the checked cutoffs
    paid_again: int  # of them: a completed payment within LOOK_AFTER_DAYS after the window
    paid_at_cutoff_and_again: int  # of those: also a payment at the cutoff
    cutoffs: tuple[str, ...]  # the cutoffs checked

    @property
    def share(self) -> float:
        return self.paid_again / self.churners if self.churners else 0.0

    @property
    def contradicts(self) -> bool:
        return self.share > REFUSE_SHARE

    def message(self) -> str:
        if not self.cutoffs:
            return (f"no cutoff has {LOOK_AFTER_DAYS} days of data after its label window: "
                    "whether churners paid again cannot be checked")
        return (f"{self.share:.0%} of the churners ({self.paid_again} of {self.churners} on "
                f"{len(self.cutoffs)} cutoff(s)) paid again within {LOOK_AFTER_DAYS} days after "
                f"their label window ({self.paid_at_cutoff_and_again} of them also paid at the "
                "cutoff)")


def churners_who_paid_again(model_input: pd.DataFrame, purchases: pd.DataFrame,
                            spec: LabelSpec, data_end: dt.date) -> LabelCheck:
    """The check over `model_input` (`customer_id, cutoff, churned`)."""
    from features.build import to_naive_utc

    done = purchases[purchases["status"] == "completed"]
    paid = pd.DataFrame({"customer_id": done["customer_id"].astype(str),
                         "day": to_naive_utc(done["order_date"]).dt.normalize()})
    churners = paid_again = both = 0
    checked = []
    for cutoff, rows in model_input.groupby("cutoff"):
        c = pd.Timestamp(cutoff).date()
        end = spec.window_end(c)
        if end + dt.timedelta(days=LOOK_AFTER_DAYS) > data_end:
            continue
        checked.append(str(c))
        lost = set(rows.loc[rows["churned"] == 1, "customer_id"].astype(str))
        churners += len(lost)
        after = paid[(paid["day"] > pd.Timestamp(end))
                     & (paid["day"] <= pd.Timestamp(end + dt.timedelta(days=LOOK_AFTER_DAYS)))]
        again = lost & set(after["customer_id"])
        near = paid[(paid["day"] <= pd.Timestamp(c))
                    & (paid["day"] > pd.Timestamp(c - dt.timedelta(days=PAID_AT_CUTOFF_DAYS)))]
        paid_again += len(again)
        both += len(again & set(near["customer_id"]))
    return LabelCheck(churners, paid_again, both, tuple(checked))
