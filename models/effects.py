"""What contacting customers did: churn of the contact arm against the random holdout.

The unit is one randomisation (`models.holdout`): a customer a list assigned to the holdout
or to the contact arm, with the churn outcome over that list's label window. Comparing the two
arms is an intention-to-treat estimate: the effect of *putting a customer on the contact
list*, whether or not the team reached them (the share the action log shows as reached is
reported next to it). Randomisation makes the arms comparable within a stratum (one tier, one
planned action), so no model is needed for the figure.

The effect is the drop in churn rate, holdout minus contacted, with Newcombe's hybrid score
interval (method 10 of Newcombe 1998, from the two Wilson score intervals): unlike the Wald
interval it stays inside [-1, 1] and keeps its coverage at small counts and rates near 0.
The save rate is the share of would-be churners the contact keeps, effect / holdout churn
rate: the quantity the training card's `save_rate` assumes. It is used instead of the
assumption only when each arm has at least `MIN_CUSTOMERS_PER_ARM` customers, and per planned
action (`action_save_rates`): an action whose arms reached that size has its measured rate,
every other action keeps the assumption. A measured rate's interval is the effect's interval
over the holdout's churn rate (that rate taken as known, so the interval is a little narrow).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
# 100 held-out customers at a 20 % churn rate are 20 churners: the save rate's interval is then
# about +-0.25 wide, the least that says more than the assumption does.
MIN_CUSTOMERS_PER_ARM = 100
EFFECT_COLUMNS = [
    "contacted", "holdout", "reached", "churned_contacted", "churned_holdout",
    "churn_rate_contacted", "churn_rate_holdout", "effect", "effect_low", "effect_high",
    "includes_zero", "save_rate", "revenue_kept", "cost", "enough",
]


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE
                    ) -> tuple[float, float]:
    """Wilson's score interval of a proportion; (nan, nan) for n = 0."""
    if n == 0:
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(x1: int, n1: int, x2: int, n2: int, confidence: float = CONFIDENCE
                        ) -> tuple[float, float, float]:
    """p1 - p2 and Newcombe's hybrid score interval of it (nan where an arm is empty)."""
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan"), float("nan")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)  # within [-1, 1] but for rounding


def effect_row(group: pd.DataFrame) -> dict[str, float | int | bool]:
    """One stratum's figures: the counts behind each, churn per arm, the effect and its
    interval, the save rate, revenue kept (the drop in revenue lost per customer, times the
    contacted customers) and the cost of the actions logged for the contact arm.

    `group`: `holdout` (bool), `churned` (0/1), `annual_revenue`, `reached` (bool: the action
    log shows a contact in the window) and `cost` (of those actions)."""
    held = group["holdout"].astype(bool).to_numpy()
    churned = group["churned"].to_numpy(int)
    revenue = group["annual_revenue"].fillna(0.0).to_numpy(float)
    n_h, n_c = int(held.sum()), int((~held).sum())
    x_h, x_c = int(churned[held].sum()), int(churned[~held].sum())
    effect, low, high = difference_interval(x_h, n_h, x_c, n_c)
    rate_h = x_h / n_h if n_h else float("nan")
    lost_h = float((revenue * churned)[held].mean()) if n_h else float("nan")
    lost_c = float((revenue * churned)[~held].mean()) if n_c else float("nan")
    return {
        "contacted": n_c, "holdout": n_h,
        "reached": int(group["reached"].astype(bool).to_numpy()[~held].sum()),
        "churned_contacted": x_c, "churned_holdout": x_h,
        "churn_rate_contacted": x_c / n_c if n_c else float("nan"), "churn_rate_holdout": rate_h,
        "effect": effect, "effect_low": low, "effect_high": high,
        "includes_zero": bool(low <= 0 <= high) if np.isfinite(low) else True,
        "save_rate": effect / rate_h if rate_h and np.isfinite(effect) else float("nan"),
        "revenue_kept": (lost_h - lost_c) * n_c if n_h and n_c else float("nan"),
        "cost": float(group["cost"].fillna(0.0).to_numpy(float)[~held].sum()),
        "enough": n_h >= MIN_CUSTOMERS_PER_ARM and n_c >= MIN_CUSTOMERS_PER_ARM,
    }


def effects_by(outcomes: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """`effect_row` per stratum of `by` (all rows as one stratum when `by` is empty)."""
    if not by:
        return pd.DataFrame([effect_row(outcomes)], columns=EFFECT_COLUMNS)
    rows = [{**dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
             **effect_row(group)}
            for key, group in outcomes.groupby(by, sort=True, dropna=False)]
    return pd.DataFrame(rows, columns=[*by, *EFFECT_COLUMNS])


@dataclass(frozen=True)
class SaveRate:
    """The save rate in force and where it comes from."""

    value: float
    measured: bool
    customers: int  # customers behind a measured rate (both arms); 0 for the assumption
    low: float = float("nan")  # the measured rate's 95 % interval (nan for the assumption)
    high: float = float("nan")

    @property
    def label(self) -> str:
        if self.measured:
            interval = (f" ({CONFIDENCE:.0%} interval {self.low:.0%} to {self.high:.0%})"
                        if np.isfinite(self.low) and np.isfinite(self.high) else "")
            return f"measured on {self.customers} randomised customers{interval}"
        return f"assumed (fewer than {MIN_CUSTOMERS_PER_ARM} customers in an arm)"


def save_rate_in_force(effects: pd.DataFrame | None, assumed: float,
                       action: str | None = None) -> SaveRate:
    """The measured save rate of `action` (or the pooled one: `action` None, a one-row frame
    or a row with `planned_action` "*") once both arms are big enough, else `assumed`.

    A measured rate is clipped to [0, 1]: a negative one (contacts that push customers out)
    keeps nobody, which is what the retained-value figure should then say."""
    if effects is None or effects.empty:
        return SaveRate(assumed, False, 0)
    rows = effects
    if "planned_action" in effects:
        rows = effects[effects["planned_action"] == (action or "*")]
    if rows.empty:
        return SaveRate(assumed, False, 0)
    row = rows.iloc[0]
    if not bool(row["enough"]) or not np.isfinite(row["save_rate"]):
        return SaveRate(assumed, False, 0)
    churn_h = float(row["churn_rate_holdout"])
    low, high = ((float(np.clip(row[c] / churn_h, 0.0, 1.0)) for c in ("effect_low",
                                                                         "effect_high"))
                 if churn_h > 0 else (float("nan"), float("nan")))
    return SaveRate(float(np.clip(row["save_rate"], 0.0, 1.0)), True,
                    int(row["contacted"] + row["holdout"]), low, high)


def action_save_rates(effects: pd.DataFrame | None, assumed: float,
                      actions: list[str]) -> dict[str, SaveRate]:
    """The save rate in force of every planned action: pooled ("*") first, then each of
    `actions` (the playbook's) and any other action the holdouts randomised. An action whose
    arms reached `MIN_CUSTOMERS_PER_ARM` has its measured rate, every other one `assumed`.

    `effects`: the pooled effect table (`tier`, `planned_action`, `EFFECT_COLUMNS`); its
    all-tier rows (`tier` "*") are read."""
    rows = effects
    if rows is not None and "tier" in rows:
        rows = rows[rows["tier"] == "*"]
    randomised = (set(rows["planned_action"]) - {"*"}
                  if rows is not None and "planned_action" in rows else set())
    wanted = ["*", *dict.fromkeys([*actions, *sorted(randomised - set(actions))])]
    by_action = rows is not None and "planned_action" in rows
    # a table without actions measures the pooled rate only: no action may borrow it
    return {action: save_rate_in_force(rows, assumed, action)
            if action == "*" or by_action else SaveRate(assumed, False, 0)
            for action in wanted}
