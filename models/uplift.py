"""Ranking by expected saved value, and whether it beats ranking by risk out of time.

Two uplift estimates. The T-learner (`TLearner`) fits one churn model on the contacted and
one on the held-out customers of earlier lists, on the features known at each list's as-of,
and takes the difference: each customer's expected drop in churn probability from the
contact. The stratified one is simpler: the measured effect (`models.effects`) of a planned
action within a tier, from earlier lists' randomisations, is the expected drop in churn
probability of a customer of that tier and action on a later list. Expected saved value =
uplift x revenue at stake - the action's cost; a negative measured effect counts as 0 (a
contact is not expected to push customers out, and the cost already ranks it last).

`policy_gain` evaluates two rankings on later lists under the same contact capacity: the
value each keeps is the sum over the customers it would contact of their *true* effect x
revenue - cost, which only a simulator knows (`pipelines.sample.retention`); the gain's
interval is a bootstrap over lists (lists, not customers, are the independent draws).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.effects import effects_by

# Small trees and a floor on leaf size: the held-out arm is a tenth of the lists.
_LEARNER: dict[str, Any] = {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 7,
            "min_child_samples": 40, "subsample": 0.8, "subsample_freq": 1,
            "colsample_bytree": 1.0, "reg_lambda": 1.0, "verbose": -1, "n_jobs": 1}

STRATA = ["tier", "planned_action"]


def stratum_uplift(train: pd.DataFrame) -> pd.DataFrame:
    """`tier, planned_action, uplift` from randomised units (`models.effects` inputs)."""
    table = effects_by(train, STRATA)
    uplift = table["effect"].clip(lower=0.0)
    return table[STRATA].assign(uplift=uplift.fillna(0.0).to_numpy())


def expected_saved_value(units: pd.DataFrame, uplift: pd.DataFrame) -> pd.Series:
    """uplift x `annual_revenue` - `action_cost` per row of `units` (unknown strata: 0)."""
    joined = units[STRATA].merge(uplift, on=STRATA, how="left")
    lift = joined["uplift"].fillna(0.0).to_numpy()
    return pd.Series(lift * units["annual_revenue"].to_numpy(float)
                     - units["action_cost"].to_numpy(float), index=units.index)


def chosen(units: pd.DataFrame, score: pd.Series, capacity: float) -> pd.Series:
    """True for the `capacity` share of each list (`run_id`) with the highest `score`, and
    only where it is positive (contacting at an expected loss is no use)."""
    ranked = score.groupby(units["run_id"]).rank(ascending=False, method="first")
    size = units.groupby("run_id")["run_id"].transform("size")
    return (ranked <= np.ceil(capacity * size)) & (score > 0)


@dataclass(frozen=True)
class PolicyGain:
    kept_risk: float  # true value kept by contacting the riskiest (value at risk first)
    kept_uplift: float  # ... by expected saved value
    gain: float  # kept_uplift - kept_risk
    gain_low: float
    gain_high: float
    lists: int


def policy_gain(evaluate: pd.DataFrame, risk_score: pd.Series, saved_value: pd.Series,
                capacity: float, draws: int = 2000, seed: int = 0) -> PolicyGain:
    """Ranking by `risk_score` (value at risk) against ranking by `saved_value` (expected
    saved value) on the `evaluate` lists at `capacity`, with the gain's 95 % interval.

    `evaluate` needs `run_id, annual_revenue, action_cost, true_effect`."""
    true_value = evaluate["true_effect"] * evaluate["annual_revenue"] - evaluate["action_cost"]
    by_risk = chosen(evaluate, risk_score, capacity)
    by_uplift = chosen(evaluate, saved_value, capacity)
    per_list = pd.DataFrame({"run_id": evaluate["run_id"],
                             "risk": true_value.where(by_risk, 0.0),
                             "uplift": true_value.where(by_uplift, 0.0)}
                            ).groupby("run_id").sum()
    diff = (per_list["uplift"] - per_list["risk"]).to_numpy()
    rng = np.random.default_rng(seed)
    boot = diff[rng.integers(0, diff.size, (draws, diff.size))].sum(axis=1)
    return PolicyGain(float(per_list["risk"].sum()), float(per_list["uplift"].sum()),
                      float(diff.sum()), float(np.quantile(boot, 0.025)),
                      float(np.quantile(boot, 0.975)), int(diff.size))


@dataclass(frozen=True)
class TLearner:
    """Churn models of the contacted and the held-out arm; uplift = their difference."""

    contacted: Any  # fitted LGBMClassifier
    holdout: Any
    features: tuple[str, ...]

    @classmethod
    def fit(cls, units: pd.DataFrame, features: tuple[str, ...], seed: int = 0) -> TLearner:
        """`units`: randomised customers with `features`, `holdout` and `churned`."""
        from lightgbm import LGBMClassifier

        models = []
        for held in (False, True):
            arm = units[units["holdout"].astype(bool) == held]
            model = LGBMClassifier(random_state=seed, **_LEARNER)
            model.fit(arm[list(features)].astype(float), arm["churned"].astype(int))
            models.append(model)
        return cls(models[0], models[1], features)

    def churn_probabilities(self, units: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """P(churn) if contacted and if not, per row."""
        x = units[list(self.features)].astype(float)
        return self.contacted.predict_proba(x)[:, 1], self.holdout.predict_proba(x)[:, 1]

    def uplift(self, units: pd.DataFrame) -> np.ndarray:
        """Expected drop in churn probability from contacting each row."""
        contacted, held = self.churn_probabilities(units)
        return held - contacted


def qini_curve(score: np.ndarray, churned: np.ndarray, holdout: np.ndarray,
               points: int = 20) -> pd.DataFrame:
    """Customers kept by contacting the top `fraction` by `score`, against the holdout: at each
    cut, retained contacted - retained held out x (contacted / held out) among the top, as a
    share of all randomised customers (Radcliffe's Qini; 0 at both ends for no uplift)."""
    order = np.argsort(-np.asarray(score, float), kind="stable")
    kept = 1 - np.asarray(churned, int)[order]
    held = np.asarray(holdout, bool)[order]
    kept_c, kept_h = np.cumsum(kept * ~held), np.cumsum(kept * held)
    n_c, n_h = np.cumsum(~held), np.cumsum(held)
    rows = []
    for fraction in np.linspace(0, 1, points + 1):
        k = int(round(fraction * len(order)))
        if k == 0:
            rows.append((0.0, 0.0))
            continue
        i = k - 1
        scaled = kept_h[i] * n_c[i] / n_h[i] if n_h[i] else 0.0
        rows.append((fraction, float((kept_c[i] - scaled) / len(order))))
    return pd.DataFrame(rows, columns=["fraction", "qini"])


def qini_area(curve: pd.DataFrame) -> float:
    """Area between the Qini curve and the random line from (0, 0) to its end point."""
    x, y = curve["fraction"].to_numpy(), curve["qini"].to_numpy()
    random_line = x * y[-1]
    gap = y - random_line
    return float(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(x)))


def out_of_time_check(units: pd.DataFrame, features: tuple[str, ...], min_per_arm: int,
                      test_share: float = 1 / 3, seed: int = 0) -> dict[str, Any]:
    """The T-learner trained on the older matured lists, judged on the newest `test_share` of
    them against contacting the riskiest (`value_at_risk`) and random: Qini areas.

    `units`: randomised customers (`run_id, as_of, holdout, churned, annual_revenue,
    value_at_risk` and `features`). Not judged (`status` says why) until both the training
    and the test lists hold `min_per_arm` customers in each arm."""
    lists = units[["as_of", "run_id"]].drop_duplicates().sort_values(["as_of", "run_id"])
    n_test = max(1, int(round(len(lists) * test_share)))
    test_runs = set(lists["run_id"].iloc[len(lists) - n_test:])
    is_test = units["run_id"].isin(test_runs)
    train, test = units[~is_test], units[is_test]

    def arms(frame: pd.DataFrame) -> int:
        held = frame["holdout"].astype(bool)
        return int(min(held.sum(), (~held).sum()))

    base = {"lists": len(lists), "test_lists": n_test, "min_per_arm": min_per_arm,
            "train_smaller_arm": arms(train), "test_smaller_arm": arms(test)}
    if len(lists) < 2 or base["train_smaller_arm"] < min_per_arm \
            or base["test_smaller_arm"] < min_per_arm:
        return {**base, "status": "not enough randomised customers yet"}
    learner = TLearner.fit(train, features, seed=seed)
    revenue = test["annual_revenue"].fillna(0.0).to_numpy(float)
    churned, held = test["churned"].to_numpy(int), test["holdout"].to_numpy(bool)
    scores = {"uplift": learner.uplift(test) * revenue,
              "risk": test["value_at_risk"].fillna(0.0).to_numpy(float),
              "random": np.random.default_rng(seed).random(len(test))}
    out: dict[str, Any] = {}
    if set(STRATA) <= set(units.columns) and "cost" in units:
        # the ordering `churn score --sort saved_value` uses, judged the same way
        table = measured_uplift(train, min_per_arm)[[*STRATA, "uplift"]]
        scores["stratum"] = expected_saved_value(test.assign(action_cost=0.0), table).to_numpy()
        gain, low, high = qini_gain(scores["stratum"], scores["risk"], churned, held, seed=seed)
        out = {"stratum_gain_over_risk": {"gain": gain, "low": low, "high": high},
               "stratum_beats_risk": bool(low > 0)}
    areas = {name: qini_area(qini_curve(score, churned, held)) for name, score in scores.items()}
    return {**base, "status": "judged", "qini_area": areas,
            "uplift_beats_risk": bool(areas["uplift"] > areas["risk"]),
            "risk_beats_random": bool(areas["risk"] > areas["random"]), **out}


def qini_gain(score: np.ndarray, baseline: np.ndarray, churned: np.ndarray, holdout: np.ndarray,
              draws: int = 200, seed: int = 0) -> tuple[float, float, float]:
    """Qini area of `score` minus that of `baseline` on the same customers, with a 95 %
    bootstrap interval over customers (both rankings on each resample)."""
    def diff(rows: np.ndarray) -> float:
        return (qini_area(qini_curve(score[rows], churned[rows], holdout[rows]))
                - qini_area(qini_curve(baseline[rows], churned[rows], holdout[rows])))

    rng = np.random.default_rng(seed)
    n = len(score)
    boot = [diff(rng.integers(0, n, n)) for _ in range(draws)]
    return (float(diff(np.arange(n))), float(np.quantile(boot, 0.025)),
            float(np.quantile(boot, 0.975)))


# --- At scoring time: expected saved value per customer, contact capacity and cooldown. ---
# The stratified estimate, not the T-learner: it needs only a customer's tier and planned
# action, which every new list has, and no model to fit and keep at each scoring run.
UPLIFT_SOURCE = "measured effect per tier x planned action of matured randomised lists"


def measured_uplift(units: pd.DataFrame, min_per_arm: int) -> pd.DataFrame:
    """`tier, planned_action, uplift, action_cost` from randomised units (`models.effects`
    inputs with `cost`): the measured drop in churn probability where both arms hold
    `min_per_arm` customers (else 0: not measured), and the mean cost of a contacted one."""
    columns = [*STRATA, "uplift", "action_cost"]
    if units.empty:
        return pd.DataFrame(columns=columns)
    table = effects_by(units, STRATA)
    enough = (table["holdout"] >= min_per_arm) & (table["contacted"] >= min_per_arm)
    lift = table["effect"].clip(lower=0.0).fillna(0.0).where(enough, 0.0)
    contacted = units[~units["holdout"].astype(bool)]
    cost = contacted.groupby(STRATA)["cost"].mean().rename("action_cost").reset_index()
    out = table[STRATA].assign(uplift=lift.to_numpy()).merge(cost, on=STRATA, how="left")
    return out.assign(action_cost=out["action_cost"].fillna(0.0))[columns]


def with_saved_value(scored: pd.DataFrame, uplift: pd.DataFrame) -> pd.DataFrame:
    """`scored` with `uplift` and `expected_saved_value` = uplift x revenue lost if the
    customer churns (`expected_revenue_12m`) - the action's mean cost, per its tier
    (`risk_tier`) and planned action (`action_key`). Strata with no measured uplift get 0
    uplift and no cost: nothing is expected of them either way.

    (The revenue, not the value at risk: the uplift is already a change in churn
    probability, and value at risk = probability x revenue would count it twice.)"""
    units = pd.DataFrame({"tier": scored["risk_tier"].astype(str).to_numpy(),
                          "planned_action": scored["action_key"].astype(str).to_numpy()},
                         index=scored.index)
    joined = units.merge(uplift, on=STRATA, how="left").set_index(scored.index)
    lift = joined["uplift"].fillna(0.0).astype(float)
    cost = joined["action_cost"].fillna(0.0).astype(float).where(lift > 0, 0.0)
    value = lift * scored["expected_revenue_12m"].astype(float).fillna(0.0) - cost
    return scored.assign(uplift=lift.round(6), expected_saved_value=value.round(2))


def cooldown_ends(actions: pd.DataFrame | None, as_of: pd.Timestamp,
                  days: int) -> pd.Series:
    """Per `customer_id` with a recorded action in the `days` days up to `as_of` (the action
    day after as_of - days, on or before as_of): the day their cooldown ends (last action +
    `days`). Actions after `as_of` are not known at it."""
    if actions is None or actions.empty or days <= 0:
        return pd.Series(dtype="datetime64[ns]", name="cooldown_until")
    at = pd.to_datetime(actions["action_at"], utc=True).dt.tz_localize(None).dt.normalize()
    day = pd.Timestamp(as_of).normalize()
    recent = (at > day - pd.Timedelta(days=days)) & (at <= day)
    last = at[recent].groupby(actions.loc[recent, "customer_id"].astype(str)).max()
    return (last + pd.Timedelta(days=days)).rename("cooldown_until")


def contact_flags(scored: pd.DataFrame, capacity: int, cooldown: pd.Series) -> pd.DataFrame:
    """`scored` with `contact_this_week` (1: call this week) on the `capacity` customers with
    the highest positive `expected_saved_value`, whatever the list's order (ties: list order),
    leaving out the holdout and anyone in `cooldown` (`cooldown_ends`), and `cooldown_until`
    (ISO date, empty when none)."""
    until = pd.to_datetime(scored["customer_id"].astype(str).map(cooldown.to_dict()))
    held = scored["holdout"].astype(bool) if "holdout" in scored else False
    eligible = (scored["expected_saved_value"] > 0) & ~held & until.isna()
    order = scored.loc[eligible, "expected_saved_value"].sort_values(ascending=False,
                                                                     kind="stable")
    flag = pd.Series(0, index=scored.index)
    flag.loc[order.index[:capacity]] = 1
    shown = until.dt.strftime("%Y-%m-%d").fillna("")
    return scored.assign(contact_this_week=flag.astype(int), cooldown_until=shown)
