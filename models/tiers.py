"""Risk tiers: a versioned, typed policy that names bands and says who falls in each.

A tier takes every customer still unassigned whose probability reaches its `min_probability`,
largest value at risk first, up to its optional `capacity`. Probability cut-offs are tiers
without a capacity; "the top 200 by value at risk are Critical" is a tier with capacity 200
(and, ideally, a floor so a safe customer is never Critical just for being large).

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
    capacity: int | None = Field(None, ge=1, description="At most this many customers.")


# A year without an order is more than ten usual purchase intervals of the median customer
# (a few weeks: 18 days in a 3,000-customer demo, ~30 in the simulator's design) and four
# 90-day horizons. Past any seasonal or annual buying rhythm such a customer has already
# left, and calling them as a "save" wastes a retention slot; a shorter cut-off (180 days)
# would also sweep up slow but live buyers who order twice a year.
LAPSED_AFTER_DAYS = 365


class TierPolicy(BaseModel):
    """Named tiers, highest first; customers no tier takes get `default`; lapsed ones `lapsed`."""

    version: str = "2026-11-probability-v3"
    tiers: list[TierRule] = Field(default_factory=lambda: [
        TierRule(name="Critical", min_probability=0.70),
        TierRule(name="At risk", min_probability=0.50),
        TierRule(name="Watch", min_probability=0.30),
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

    @model_validator(mode="after")
    def _consistent(self) -> TierPolicy:
        cuts = [t.min_probability for t in self.tiers]
        if cuts != sorted(cuts, reverse=True):
            raise ValueError("tier cut-offs must be listed highest first")
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
               recency_days: pd.Series | None = None) -> pd.Series:
        """The tier name of each customer (same index as `probability`).

        `recency_days` (days since the last completed order, aligned with `probability`)
        drives the lapsed rule; without it nobody is lapsed.
        """
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
            take = free & (p >= tier.min_probability)
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
