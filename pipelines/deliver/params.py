"""The typed parameters of a scoring run, with every default declared once.

Light on purpose: the CLI takes its option defaults from here at import time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.monitoring import MonitoringPolicy
from models.params import COOLDOWN_DAYS, SortKey
from models.tiers import TierPolicy
from pipelines.deliver.i18n import Lang

#: Whose SHAP contributions and reasons a scoring run computes (`ScoreParams.reasons_for`).
ReasonsForKey = Literal["listed", "all"]
REASONS_FOR_DEFAULT: ReasonsForKey = "listed"


class ScoreParams(BaseModel):
    """Typed parameters of a scoring run (recorded in its metadata)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error

    tier_policy: TierPolicy = Field(default_factory=TierPolicy)
    sort: SortKey = "tier"
    lang: Lang = "en"
    csv_delimiter: str | None = Field(
        None, min_length=1, max_length=1,
        description="CSV delimiter; default ';' for tr/nl and ',' for en.")
    monitoring: MonitoringPolicy = Field(default_factory=MonitoringPolicy)
    contact_capacity: int | None = Field(
        None, ge=1, description="Flag the N customers with the highest positive expected "
        "saved value `contact_this_week` (holdout and cooldown left out); None: no flag.")
    cooldown_days: int = Field(
        COOLDOWN_DAYS, ge=0, description="Not flagged for contact within this many days "
        "after a recorded action (the staged action log).")
    reasons_for: ReasonsForKey = Field(
        REASONS_FOR_DEFAULT, description="Whose reasons are computed: 'listed', everyone "
        "outside the default (Safe) tier, the customers a retention team reads; 'all', "
        "everyone. TreeSHAP is most of a run's time, so at a million customers 'listed' "
        "takes a fraction of 'all'.")
