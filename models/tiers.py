"""Risk tiers: a versioned, typed policy that names bands and says who falls in each.

A tier takes every customer still unassigned whose probability reaches its `min_probability`
or whose *lift* reaches its optional `min_lift`, largest value at risk first, up to its
optional `capacity`. Lift is a customer's probability over the base rate, the mean churn
probability of the scored population (its expected churn rate): a lift of 4 means "four
times as likely to churn as the average customer".

The default policy is relative to the base rate: Critical at lift 4 or probability 0.70, At
risk at lift 2.5 or 0.50, Watch at lift 1.5 or 0.30. Fixed probability cut-offs alone put
nobody in Critical when the base rate is low (1.7 % a month: a customer 20 times the average
is still at 0.34), so a low-churn business would see an empty list; the lift cut-offs give it
a short list of its highest-lift customers. Where the base rate is high (the retail demo,
~25 %) lift 4 is unreachable and the probability cut-offs decide, as they always did.
`TierPolicy.probability_based()` is the policy of probability cut-offs alone; "the top 200
by value at risk are Critical" is a tier with capacity 200 (`capacity_based`).

Before any of that, a customer whose last completed order is more than `lapsed_after_days`
ago is Lapsed: a win-back audience, not a retention one. Lapsed customers take no seat in any
tier (nor its capacity) and come after every other tier in every ordering.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator


class TierRule(BaseModel):
    name: str = Field(min_length=1)
    min_probability: float = Field(0.0, ge=0, le=1)
    min_lift: float | None = Field(
        None, gt=0, description="Also takes customers whose probability is at least this "
                                "many times the base rate. None: probability cut-off only.")
    capacity: int | None = Field(None, ge=1, description="At most this many customers.")
    holdout_share: float | None = Field(
        None, ge=0, lt=1, description="Share of this tier's customers randomised to the "
                                      "holdout (not contacted). None: the policy's share.")

    def cutoff(self, base_rate: float) -> float:
        """The probability from which this tier takes a customer, at `base_rate`."""
        if self.min_lift is None:
            return self.min_probability
        return min(self.min_probability, self.min_lift * base_rate)


def base_rate_of(probability: pd.Series) -> float:
    """The base rate lift is measured against: the mean churn probability of the scored
    customers (calibrated probabilities, so their mean is the expected churn rate)."""
    return float(probability.mean()) if len(probability) else 0.0


# A year without an order is more than ten usual purchase intervals of the median customer
# (a few weeks: 18 days in a 3,000-customer demo, ~30 in the simulator's design) and four
# 90-day horizons. Past any seasonal or annual buying rhythm such a customer has already
# left, and calling them as a "save" wastes a retention slot; a shorter cut-off (180 days)
# would also sweep up slow but live buyers who order twice a year.
LAPSED_AFTER_DAYS = 365
# One customer in ten uncontacted: enough holdout customers for an effect to be measured
# within a few lists, few enough that the saves given up stay small (at a 20 % save rate, 2 %
# of a tier's churners).
DEFAULT_HOLDOUT_SHARE = 0.10


class TierPolicy(BaseModel):
    """Named tiers, highest first; customers no tier takes get `default`; lapsed ones `lapsed`."""

    version: str = "2026-12-lift-v1"
    tiers: list[TierRule] = Field(default_factory=lambda: [
        TierRule(name="Critical", min_probability=0.70, min_lift=4.0),
        TierRule(name="At risk", min_probability=0.50, min_lift=2.5),
        TierRule(name="Watch", min_probability=0.30, min_lift=1.5),
    ])
    default: str = "Safe"
    lapsed: str = Field("Lapsed", min_length=1,
                        description="Tier of customers with no completed order for longer "
                                    "than `lapsed_after_days`.")
    lapsed_after_days: int | None = Field(
        LAPSED_AFTER_DAYS, ge=1,
        description="Days since the last completed order after which a customer is lapsed "
                    "(more than this many; exactly this many is not). None: no lapsed tier.")
    top_tiers: list[str] = Field(
        default_factory=lambda: ["Critical", "At risk"],
        description="Tiers whose entries and exits the run summary reports.",
    )
    holdout_share: float = Field(
        DEFAULT_HOLDOUT_SHARE, ge=0, lt=1,
        description="Share of each tier randomised to the holdout (models.holdout); a tier's "
                    "own `holdout_share` overrides it; 0 switches the holdout off.")
    holdout_seed: int = Field(0, ge=0, description="Seed of the holdout draw.")

    @model_validator(mode="after")
    def _consistent(self) -> TierPolicy:
        cuts = [t.min_probability for t in self.tiers]
        if cuts != sorted(cuts, reverse=True):
            raise ValueError("tier cut-offs must be listed highest first")
        # A rule without a lift cut-off never takes by lift (an infinite one): listed after a
        # lift rule it could outrank it at some base rate, so lifts must fall too.
        lifts = [t.min_lift if t.min_lift is not None else float("inf") for t in self.tiers]
        if lifts != sorted(lifts, reverse=True):
            raise ValueError("tier lift cut-offs must be listed highest first (a tier without "
                             "min_lift cannot follow one with it)")
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique: {names}")
        if self.lapsed_tier in self.top_tiers:
            raise ValueError(f"the lapsed tier {self.lapsed!r} cannot be a top tier: it is a "
                             "win-back audience, not a retention one")
        unknown = [t for t in self.top_tiers if t not in names]
        if unknown:
            raise ValueError(f"top_tiers {unknown} are not tiers of this policy ({names})")
        return self

    @property
    def lapsed_tier(self) -> str | None:
        """The lapsed tier's name, or None when the policy has no lapsed rule."""
        return self.lapsed if self.lapsed_after_days is not None else None

    @property
    def names(self) -> list[str]:
        """Every tier in report order: the tiers, the default, then the lapsed tier if any."""
        lapsed = [self.lapsed] if self.lapsed_after_days is not None else []
        return [t.name for t in self.tiers] + [self.default] + lapsed

    def with_lapsed_after(self, days: int) -> TierPolicy:
        """This policy with another lapsed threshold (0 = no lapsed tier), versioned as such."""
        wanted = days or None
        if wanted == self.lapsed_after_days:
            return self
        suffix = f"lapsed{wanted}" if wanted else "lapsed-off"
        return self.model_validate({**self.model_dump(), "lapsed_after_days": wanted,
                                    "version": f"{self.version}+{suffix}"})

    def holdout_shares(self) -> dict[str, float]:
        """The holdout share of each tier that randomises (retention tiers only: the default
        and lapsed tiers are no contact list)."""
        shares = {t.name: self.holdout_share if t.holdout_share is None else t.holdout_share
                  for t in self.tiers}
        return {name: share for name, share in shares.items() if share > 0}

    @property
    def uses_lift(self) -> bool:
        return any(t.min_lift is not None for t in self.tiers)

    def cutoffs(self, base_rate: float) -> dict[str, float]:
        """The probability from which each tier takes a customer at `base_rate`."""
        return {t.name: t.cutoff(base_rate) for t in self.tiers}

    def describe(self, base_rate: float) -> str:
        """The policy in one line with the cut-offs in force, e.g. `2026-12-lift-v1 (lift over
        a base rate of 0.017): Critical p >= 0.068 (lift 4.0 or p 0.70); ...`."""
        def rule(t: TierRule) -> str:
            cap = f", top {t.capacity}" if t.capacity else ""
            if t.min_lift is None:
                return f"{t.name} p >= {t.min_probability:.2f}{cap}"
            return (f"{t.name} p >= {t.cutoff(base_rate):.3f} (lift {t.min_lift:g} or "
                    f"p {t.min_probability:.2f}{cap})")
        basis = (f" (lift over a base rate of {base_rate:.3f})" if self.uses_lift
                 else " (probability cut-offs)")
        lapsed = (f"; {self.lapsed}: more than {self.lapsed_after_days} days without an order"
                  if self.lapsed_after_days is not None else "")
        return (f"{self.version}{basis}: " + "; ".join(rule(t) for t in self.tiers)
                + f"; {self.default} otherwise{lapsed}")

    @classmethod
    def probability_based(cls) -> TierPolicy:
        """Fixed probability cut-offs (0.70 / 0.50 / 0.30), the default before lift: right
        only where the base rate is high enough for them to be reached."""
        return cls(version="2026-11-probability-v3", tiers=[
            TierRule(name="Critical", min_probability=0.70),
            TierRule(name="At risk", min_probability=0.50),
            TierRule(name="Watch", min_probability=0.30),
        ])

    @classmethod
    def capacity_based(cls, critical: int, at_risk: int | None = None,
                       floor: float = 0.30) -> TierPolicy:
        """The `critical` largest values at risk are Critical (then `at_risk` more At risk)."""
        tiers = [TierRule(name="Critical", min_probability=floor, capacity=critical)]
        if at_risk:
            tiers.append(TierRule(name="At risk", min_probability=floor, capacity=at_risk))
        tiers.append(TierRule(name="Watch", min_probability=floor))
        top = [t.name for t in tiers[:-1]]
        return cls(version=f"2026-11-capacity-v2-top{critical}", tiers=tiers, top_tiers=top)

    @classmethod
    def from_json(cls, text: str) -> TierPolicy:
        return cls.model_validate(json.loads(text))

    def is_lapsed(self, recency_days: pd.Series) -> pd.Series:
        """True where the last completed order is more than `lapsed_after_days` ago."""
        if self.lapsed_after_days is None:
            return pd.Series(False, index=recency_days.index)
        return recency_days.astype(float).gt(self.lapsed_after_days)

    def assign(self, probability: pd.Series, value_at_risk: pd.Series | None = None,
               recency_days: pd.Series | None = None,
               base_rate: float | None = None) -> pd.Series:
        """The tier name of each customer (same index as `probability`).

        `recency_days` (days since the last completed order, aligned with `probability`)
        drives the lapsed rule; without it nobody is lapsed. `base_rate` is what lift is
        measured against; default `base_rate_of(probability)`.
        """
        rate = base_rate_of(probability) if base_rate is None else base_rate
        value = value_at_risk if value_at_risk is not None else probability
        # Largest value first; probability then position break ties the same way every run.
        order = np.lexsort((np.arange(len(probability)), -probability.to_numpy(),
                            -value.to_numpy(dtype=float)))
        p = probability.to_numpy()[order]
        assigned = np.full(len(p), self.default, dtype=object)
        free = np.ones(len(p), dtype=bool)
        if recency_days is not None:
            lapsed = self.is_lapsed(recency_days).to_numpy()[order]
            assigned[lapsed] = self.lapsed
            free &= ~lapsed  # before the tiers, so lapsed customers use no capacity
        for tier in self.tiers:
            take = free & (p >= tier.cutoff(rate))
            if tier.capacity is not None:
                take &= np.cumsum(take) <= tier.capacity
            assigned[take] = tier.name
            free &= ~take
        out = np.empty(len(p), dtype=object)
        out[order] = assigned
        return pd.Series(out, index=probability.index, dtype="str")

    def record(self) -> dict[str, Any]:
        return self.model_dump()


def tier_changes(
    previous: pd.DataFrame | None, current: pd.DataFrame, policy: TierPolicy
) -> dict[str, Any]:
    """Who entered or left the top tiers since the previous run, who is newly Critical, and
    who newly lapsed (moved to the win-back audience).

    Both frames need `customer_id, risk_tier`; the first tier of the policy is "Critical". A
    top-tier customer who lapsed has left the top tiers.
    """
    top = set(policy.top_tiers)
    first = policy.tiers[0].name if policy.tiers else policy.default
    now_top = set(current.loc[current["risk_tier"].isin(top), "customer_id"])
    now_first = current.loc[current["risk_tier"] == first, "customer_id"].tolist()
    now_lapsed = current.loc[current["risk_tier"] == policy.lapsed_tier, "customer_id"].tolist()
    summary = {"top_tiers": sorted(top), "critical_tier": first,
               "lapsed_tier": policy.lapsed_tier}
    if previous is None:
        return {"entered_top": sorted(now_top), "left_top": [], "new_critical": now_first,
                "new_lapsed": now_lapsed, **summary}
    before_top = set(previous.loc[previous["risk_tier"].isin(top), "customer_id"])
    before_first = set(previous.loc[previous["risk_tier"] == first, "customer_id"])
    before_lapsed = set(previous.loc[previous["risk_tier"] == policy.lapsed_tier, "customer_id"])
    return {
        "entered_top": sorted(now_top - before_top),
        "left_top": sorted(before_top - now_top),
        "new_critical": [c for c in now_first if c not in before_first],
        "new_lapsed": [c for c in now_lapsed if c not in before_lapsed],
        **summary,
    }
