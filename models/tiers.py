"""Risk tiers: a versioned, typed policy that names bands and says who falls in each.

A tier takes every customer still unassigned whose probability reaches its `min_probability`,
largest value at risk first, up to its optional `capacity`. Probability cut-offs are tiers
without a capacity; "the top 200 by value at risk are Critical" is a tier with capacity 200
(and, ideally, a floor so a safe customer is never Critical just for being large).
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


class TierPolicy(BaseModel):
    """Named tiers, highest first; customers no tier takes get `default`."""

    version: str = "2026-11-probability-v2"
    tiers: list[TierRule] = Field(default_factory=lambda: [
        TierRule(name="Critical", min_probability=0.70),
        TierRule(name="At risk", min_probability=0.50),
        TierRule(name="Watch", min_probability=0.30),
    ])
    default: str = "Safe"
    top_tiers: list[str] = Field(
        default_factory=lambda: ["Critical", "At risk"],
        description="Tiers whose entries and exits the run summary reports.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> TierPolicy:
        cuts = [t.min_probability for t in self.tiers]
        if cuts != sorted(cuts, reverse=True):
            raise ValueError("tier cut-offs must be listed highest first")
        names = [t.name for t in self.tiers] + [self.default]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique: {names}")
        unknown = [t for t in self.top_tiers if t not in names]
        if unknown:
            raise ValueError(f"top_tiers {unknown} are not tiers of this policy ({names})")
        return self

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tiers] + [self.default]

    @classmethod
    def capacity_based(cls, critical: int, at_risk: int | None = None,
                       floor: float = 0.30) -> TierPolicy:
        """The `critical` largest values at risk are Critical (then `at_risk` more At risk)."""
        tiers = [TierRule(name="Critical", min_probability=floor, capacity=critical)]
        if at_risk:
            tiers.append(TierRule(name="At risk", min_probability=floor, capacity=at_risk))
        tiers.append(TierRule(name="Watch", min_probability=floor))
        top = [t.name for t in tiers[:-1]]
        return cls(version=f"2026-11-capacity-v1-top{critical}", tiers=tiers, top_tiers=top)

    @classmethod
    def from_json(cls, text: str) -> TierPolicy:
        return cls.model_validate(json.loads(text))

    def assign(self, probability: pd.Series, value_at_risk: pd.Series | None = None) -> pd.Series:
        """The tier name of each customer (same index as `probability`)."""
        value = value_at_risk if value_at_risk is not None else probability
        # Largest value first; probability then position break ties the same way every run.
        order = np.lexsort((np.arange(len(probability)), -probability.to_numpy(),
                            -value.to_numpy(dtype=float)))
        p = probability.to_numpy()[order]
        assigned = np.full(len(p), self.default, dtype=object)
        free = np.ones(len(p), dtype=bool)
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
    """Who entered or left the top tiers since the previous run, and who is newly Critical.

    Both frames need `customer_id, risk_tier`; the first tier of the policy is "Critical".
    """
    top = set(policy.top_tiers)
    first = policy.tiers[0].name if policy.tiers else policy.default
    now_top = set(current.loc[current["risk_tier"].isin(top), "customer_id"])
    now_first = current.loc[current["risk_tier"] == first, "customer_id"].tolist()
    if previous is None:
        return {"entered_top": sorted(now_top), "left_top": [],
                "new_critical": now_first, "top_tiers": sorted(top), "critical_tier": first}
    before_top = set(previous.loc[previous["risk_tier"].isin(top), "customer_id"])
    before_first = set(previous.loc[previous["risk_tier"] == first, "customer_id"])
    return {
        "entered_top": sorted(now_top - before_top),
        "left_top": sorted(before_top - now_top),
        "new_critical": [c for c in now_first if c not in before_first],
        "top_tiers": sorted(top), "critical_tier": first,
    }
