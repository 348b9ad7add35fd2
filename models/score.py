"""Scoring: the ranked list of every eligible customer, in no language.

Columns (see README, "The risk list"): who the customer is (id, name, RFM segment, CRM
segment, owner), how risky (tier, probability, value at risk), what we know (12-month revenue,
last purchase, usual interval, open complaints, last CSAT), why (three reason keys with the
numbers they quote) and what to do (an action key with its facts). `pipelines.deliver.wording`
turns the keys into the retention team's sentences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from models.explain import REASON_GROUPS
from models.outputs import ModelOutputs, model_outputs
from models.params import SortKey
from models.playbook import default_playbook_text, parse_playbook, suggested_actions
from models.segments import expected_revenue_12m, rfm_scores, rfm_segment, value_at_risk
from models.tiers import TierPolicy, base_rate_of
from models.train import FittedChurnModel
from models.uplift import with_saved_value

# (column, ascending) per sort. "tier" is how a retention team works the list: the most urgent
# tier first, the largest value at risk first within it. "value" alone would put a large but
# safe customer above a Critical one.
SORT_COLUMNS: dict[str, list[tuple[str, bool]]] = {
    "tier": [("tier_order", True), ("value_at_risk", False), ("churn_probability", False),
             ("customer_id", True)],
    "value": [("value_at_risk", False), ("churn_probability", False), ("customer_id", True)],
    "probability": [("churn_probability", False), ("value_at_risk", False),
                    ("customer_id", True)],
    # Expected saved value first (models.uplift.with_saved_value) where an uplift is measured;
    # the customers without one after them, by risk and value as "tier" ranks them.
    "saved_value": [("saved_value_order", True), ("tier_order", True), ("value_at_risk", False),
                    ("churn_probability", False), ("customer_id", True)],
}


class ScoredCustomers(pa.DataFrameModel):
    """One row per customer eligible at `data_as_of` (key: `customer_id`), ranked.

    The language-neutral columns of the risk list; the reason and action keys travel beside
    them (see `score_customers`).
    """

    rank: Series[int] = pa.Field(ge=1, unique=True)
    customer_id: Series[str] = pa.Field(unique=True)
    customer_name: Series[str] = pa.Field(nullable=True)
    segment: Series[str]
    master_segment: Series[str] = pa.Field(nullable=True)
    owner: Series[str] = pa.Field(nullable=True)
    risk_tier: Series[str]
    churn_probability: Series[float] = pa.Field(ge=0, le=1)
    value_at_risk: Series[float] = pa.Field(ge=0)
    annual_revenue: Series[float]
    lifetime_spend: Series[float] = pa.Field(ge=0)
    last_purchase_date: Series[pd.Timestamp]
    days_since_last_purchase: Series[float] = pa.Field(ge=0)
    usual_interval_days: Series[float] = pa.Field(nullable=True)
    open_complaints: Series[float] = pa.Field(nullable=True, ge=0)
    last_satisfaction: Series[float] = pa.Field(nullable=True, ge=1, le=5)
    data_as_of: Series[pd.Timestamp]
    model_version: Series[str]

    class Config:
        strict = "filter"
        coerce = True


SCORED_COLUMNS = list(ScoredCustomers.to_schema().columns)


def _master_columns(features: pd.DataFrame, master: pd.DataFrame | None) -> pd.DataFrame:
    """Name, CRM segment and owner per feature row (empty where the master lacks them)."""
    wanted = {"name": "customer_name", "segment": "master_segment", "owner": "owner"}
    out = pd.DataFrame(index=features.index, columns=list(wanted.values()), dtype="str")
    if master is None or master.empty:
        return out
    lookup = master.assign(customer_id=master["customer_id"].astype(str)).set_index("customer_id")
    ids = features["customer_id"].astype(str)
    for source, target in wanted.items():
        if source in lookup:
            out[target] = ids.map(lookup[source]).astype("str").to_numpy()
    return out


def _column(features: pd.DataFrame, name: str) -> pd.Series:
    return features[name] if name in features else pd.Series(np.nan, index=features.index)


def assigned_tiers(probability: pd.Series, features: pd.DataFrame, policy: TierPolicy,
                   expected_revenue: pd.Series | None = None,
                   at_risk: pd.Series | None = None) -> pd.Series:
    """Each customer's tier under `policy`, as `score_customers` assigns it (known before
    anyone is explained, so a run can explain only the tiers someone reads). `at_risk`:
    the value at risk when the caller has it."""
    if at_risk is None:
        at_risk = value_at_risk(probability, features, expected_revenue)
    return policy.assign(probability, at_risk, features["recency_days"],
                         base_rate=base_rate_of(probability))


def score_customers(
    model: FittedChurnModel,
    features: pd.DataFrame,
    *,
    model_version: str,
    policy: TierPolicy | None = None,
    master: pd.DataFrame | None = None,
    open_complaints: pd.DataFrame | None = None,
    playbook: pd.DataFrame | None = None,
    sort: SortKey = "tier",
    expected_revenue: pd.Series | None = None,
    no_data_features: tuple[str, ...] = (),
    uplift: pd.DataFrame | None = None,
    outputs: ModelOutputs | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranked list and the per-customer SHAP contributions behind its reasons.

    `master`: the staged customer master (name, segment, owner); `open_complaints`: the output
    of `models.playbook.oldest_open_complaints` (so actions can quote the complaint number);
    `playbook`: a parsed playbook, the shipped one by default. The returned frame carries the
    `SCORED_COLUMNS` first, then the reasons (`reason_group_i`, `reason_key_i`,
    `reason_params_i` for i = 1..3, see `models.explain.reason_columns`), the action
    (`action_key`, `action_params`) and helper columns (RFM scores, `expected_revenue_12m`,
    `lapsed`, `churn_lift`, `open_complaint_id`, ...) that exports leave out.
    Lapsed customers (see `TierPolicy.lapsed_after_days`) are ranked after all others, by
    `lifetime_spend`. `no_data_features`: features whose data is not there (their source is
    gone, `models.compatibility`); they score as missing and no reason cites them.
    `uplift`: measured uplift per stratum (`models.uplift.measured_uplift`); given, or with
    `sort="saved_value"`, the list carries `uplift` and `expected_saved_value` (none
    measured: 0 uplift for all, so "saved_value" ranks as "tier").
    `outputs`: the model's probabilities, contributions and reasons for `features` when the
    caller computed them (by shard, `pipelines.scale.scoring`); the same values as computed
    here (`models.outputs.model_outputs`), so the list is the same either way.
    """
    if sort not in SORT_COLUMNS:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(SORT_COLUMNS)}")
    policy = policy or TierPolicy()
    if playbook is None:
        playbook = parse_playbook(default_playbook_text(), groups=list(REASON_GROUPS),
                                  tiers=policy.names, drop_unknown_tiers=True)
    if outputs is None:
        outputs = model_outputs(model, features, no_data_features=no_data_features)
    probability, contributions = outputs.probability, outputs.contributions
    scores = rfm_scores(features)
    at_risk = value_at_risk(probability, features, expected_revenue)
    base_rate = base_rate_of(probability)
    tiers = assigned_tiers(probability, features, policy, at_risk=at_risk)
    csat = _column(features, "last_satisfaction")
    scored = pd.DataFrame({
        "customer_id": features["customer_id"].astype(str),
        "segment": rfm_segment(scores),
        "risk_tier": tiers,
        "churn_probability": probability.round(6),
        # how many times the base rate (the tiers' lift); not exported, for analysis
        "churn_lift": (probability / base_rate if base_rate > 0 else probability * 0).round(4),
        "value_at_risk": at_risk,
        "annual_revenue": features["spend_365d"].astype(float).round(2),
        "lifetime_spend": features["spend_lifetime"].astype(float).round(2),
        "last_purchase_date": pd.to_datetime(features["last_purchase_date"]),
        "days_since_last_purchase": features["recency_days"],
        "usual_interval_days": _column(features, "median_interval_days"),
        "open_complaints": _column(features, "open_complaints"),
        "last_satisfaction": (1 + 4 * csat).round(1),
        "data_as_of": pd.to_datetime(features["as_of"]),
        "model_version": str(model_version),
        "expected_revenue_12m": expected_revenue_12m(features, expected_revenue).round(2),
    }).join(_master_columns(features, master)).join(scores)
    scored = scored.join(outputs.reasons)
    if open_complaints is not None and len(open_complaints):
        scored = scored.merge(open_complaints, on="customer_id", how="left").set_index(
            scored.index)
    scored = scored.join(suggested_actions(playbook, scored))
    if uplift is not None or sort == "saved_value":
        scored = with_saved_value(scored, uplift if uplift is not None else pd.DataFrame(
            columns=["tier", "planned_action", "uplift", "action_cost"]))
        scored["saved_value_order"] = (-scored["expected_saved_value"]).where(
            scored["uplift"] > 0, np.inf)
    # Lapsed customers (a win-back audience) come after everyone else, whatever the sort.
    scored["lapsed"] = scored["risk_tier"].eq(policy.lapsed_tier) if policy.lapsed_tier \
        else False
    scored["tier_order"] = scored["risk_tier"].map(
        {name: i for i, name in enumerate(policy.names)})
    # Within the lapsed block the value at risk is 0 by construction (no spend in the last
    # year), so the win-back team gets the biggest past customers first: lifetime spend.
    scored["winback_order"] = -scored["lifetime_spend"].where(scored["lapsed"], 0.0)
    keys = [("lapsed", True), ("winback_order", True), *SORT_COLUMNS[sort]]
    scored = scored.sort_values([k for k, _ in keys], ascending=[a for _, a in keys],
                                kind="stable").drop(columns=["tier_order", "winback_order",
                                                             "saved_value_order"],
                                                    errors="ignore")
    scored.insert(0, "rank", np.arange(1, len(scored) + 1))
    # in rank order; a run that explained some customers has only their rows
    explained = scored.index[scored.index.isin(contributions.index)]
    contributions = contributions.loc[explained]
    contributions.insert(0, "customer_id", scored.loc[explained, "customer_id"].to_numpy())
    scored = scored.reset_index(drop=True)
    checked = ScoredCustomers.validate(scored)[SCORED_COLUMNS]
    extra = [c for c in scored.columns if c not in SCORED_COLUMNS]
    return pd.concat([checked, scored[extra]], axis=1), contributions.reset_index(drop=True)
