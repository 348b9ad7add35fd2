"""`churn track-record`'s loop section: contacted against holdout on every matured list.

Reads the archived lists with their holdout columns (lists from before the holdout randomised
nobody and are skipped), the staged purchases for the outcomes and the staged action log for
who was reached and what it cost; writes reports/track_record_effects.csv (per list, per tier
and per planned action), track_record_effects_pooled.csv (over every matured list) and
save_rates.json (the save rate in force pooled and per playbook action: measured, with its
customers and interval, or the assumption) and
uplift_check.json (an uplift model against contacting the riskiest, out of time).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd

from features.sources import SourceTables
from models.effects import MIN_CUSTOMERS_PER_ARM, action_save_rates
from models.params import ActionSaveRate, TrainParams
from models.playbook import default_playbook_text, playbook_actions
from models.track_record import LoopRecord, loop_record
from models.uplift import out_of_time_check
from pipelines.store.atomic import write_json_atomic, write_text_atomic
from pipelines.store.settings import Settings
from pipelines.tracking.shipped import archived_lists, shipped_lists

LOOP_LIST_COLUMNS = ["customer_id", "churn_probability", "risk_tier", "value_at_risk",
                     "annual_revenue", "holdout", "assigned_in", "planned_action"]
# What the list knew of each customer at its as-of: the uplift model's features.
UPLIFT_FEATURES = ("churn_probability", "days_since_last_purchase", "usual_interval_days",
                   "open_complaints", "last_satisfaction", "annual_revenue")
EFFECTS_FILE, POOLED_FILE, SAVE_RATES_FILE, UPLIFT_FILE = (
    "track_record_effects.csv", "track_record_effects_pooled.csv", "save_rates.json",
    "uplift_check.json")


def loop_columns(names: set[str]) -> list[str]:
    """What the loop reads of a list: its holdout columns (a list archived before the holdout
    lacks them and is passed over) and the uplift features it has."""
    return [*LOOP_LIST_COLUMNS,
            *(c for c in UPLIFT_FEATURES if c in names and c not in LOOP_LIST_COLUMNS)]


def archive_loop_record(settings: Settings, tables: SourceTables, data_end: dt.date,
                        actions: pd.DataFrame | None) -> LoopRecord:
    """The loop record of every archived list scored by `data_end`, as known then."""
    archived = archived_lists(settings.scored_dir, data_end,
                              with_cancellation=tables.customers is not None)
    known = None
    if actions is not None:  # an action logged after the data end is not known at it
        stamp = pd.Timestamp(data_end + dt.timedelta(days=1), tz="UTC")
        known = actions[actions["action_at"] < stamp]
    return loop_record(shipped_lists(archived, loop_columns), tables.purchases, data_end,
                       tables.customers, tables.subscriptions, known,
                       carry=(*UPLIFT_FEATURES, "value_at_risk"))


def uplift_check(record: LoopRecord) -> dict[str, Any]:
    """The uplift model against contacting the riskiest, out of time on the matured lists
    (`models.uplift.out_of_time_check`); the list keeps its ranking either way."""
    units = record.randomised
    features = tuple(c for c in UPLIFT_FEATURES if c in units)
    if units.empty or not features:
        return {"status": "no matured list with a holdout yet"}
    frame = units.assign(**{c: pd.to_numeric(units[c], errors="coerce") for c in features})
    return out_of_time_check(frame, features, MIN_CUSTOMERS_PER_ARM)


def playbook_action_names(settings: Settings) -> list[str]:
    """The actions of the playbook scoring uses: `<data-dir>/playbook.csv`, else the shipped
    table."""
    from pipelines.deliver.scoring_run import PLAYBOOK_FILE  # scoring imports this module

    own = settings.data_dir / PLAYBOOK_FILE
    try:
        text = own.read_text(encoding="utf-8-sig") if own.exists() else default_playbook_text()
        return playbook_actions(text)
    except (OSError, ValueError):
        return playbook_actions(default_playbook_text())


def save_rates(record: LoopRecord, assumed: float, actions: list[str] | None = None
               ) -> dict[str, Any]:
    """The save rate in force pooled ("*") and per planned action: each of `actions` (the
    playbook's) and any other action randomised, measured where its arms are big enough,
    else `assumed`; each with where it comes from (`models.effects.action_save_rates`)."""
    rates = action_save_rates(record.pooled, assumed, actions or [])
    out = {action: {"save_rate": round(rate.value, 4), "measured": rate.measured,
                    "customers": rate.customers,
                    "low": round(rate.low, 4) if rate.measured and np.isfinite(rate.low)
                    else None,
                    "high": round(rate.high, 4) if rate.measured and np.isfinite(rate.high)
                    else None,
                    "source": rate.label}
           for action, rate in rates.items()}
    return {"assumed_save_rate": assumed, "min_customers_per_arm": MIN_CUSTOMERS_PER_ARM,
            "by_action": out}


def save_rate_lines(rates: dict[str, Any]) -> list[str]:
    """save_rates.json in words: the pooled rate, then each measured action, then the
    actions that keep the assumption in one line."""
    by_action = rates.get("by_action") or {}
    lines = [f"save rate, all actions: {_pct(by_action['*']['save_rate'])}, "
             f"{by_action['*']['source']}"] if "*" in by_action else []
    lines += [f"save rate, {action}: {_pct(rate['save_rate'])}, {rate['source']}"
              for action, rate in by_action.items() if action != "*" and rate["measured"]]
    assumed = [a for a, rate in by_action.items() if a != "*" and not rate["measured"]]
    if assumed:
        lines.append(f"save rate assumed ({_pct(rates['assumed_save_rate'])}; fewer than "
                     f"{MIN_CUSTOMERS_PER_ARM} customers in an arm) for: {', '.join(assumed)}")
    return lines


def write_loop_record(settings: Settings, record: LoopRecord, assumed: float | None = None,
                      uplift: dict[str, Any] | None = None) -> dict[str, str]:
    """The two effect tables, save_rates.json and uplift_check.json (`uplift`, else computed)
    under reports/, each written atomically."""
    base = settings.reports_dir
    assumed = TrainParams().save_rate if assumed is None else assumed
    by_list = record.by_list.astype({"as_of": str}) if len(record.by_list) else record.by_list
    files = {
        "effects": write_text_atomic(by_list.to_csv(index=False), base / EFFECTS_FILE),
        "pooled": write_text_atomic(record.pooled.to_csv(index=False), base / POOLED_FILE),
        "save_rates": write_json_atomic(save_rates(record, assumed,
                                                   playbook_action_names(settings)),
                                        base / SAVE_RATES_FILE),
        "uplift": write_json_atomic(uplift if uplift is not None else uplift_check(record),
                                    base / UPLIFT_FILE),
    }
    return {k: str(v) for k, v in files.items()}


def save_rates_in_force(settings: Settings) -> dict[str, Any] | None:
    """reports/save_rates.json as the last `churn track-record` wrote it, if it did."""
    path = settings.reports_dir / SAVE_RATES_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def with_save_rate_in_force(settings: Settings, params: TrainParams) -> TrainParams:
    """`params` with the save rates of save_rates.json: the measured pooled rate replaces
    `save_rate` once enough randomised customers back it (`models.effects.
    MIN_CUSTOMERS_PER_ARM`), and `action_save_rates` holds each planned action's rate in
    force, measured or assumed, with its label. Unchanged without a track record."""
    by_action = (save_rates_in_force(settings) or {}).get("by_action") or {}
    update: dict[str, Any] = {"action_save_rates": {
        action: ActionSaveRate(save_rate=float(rate["save_rate"]), source=rate["source"])
        for action, rate in by_action.items() if action != "*"}}
    pooled = by_action.get("*") or {}
    if pooled.get("measured"):
        update |= {"save_rate": float(pooled["save_rate"]), "save_rate_source": pooled["source"]}
    return params.model_copy(update=update) if by_action else params


def uplift_line(check: dict[str, Any]) -> str:
    """The uplift check in one line."""
    if check.get("status") != "judged":
        return f"uplift model: not judged ({check.get('status')})"
    areas = check["qini_area"]
    verdict = ("beats contacting the riskiest" if check["uplift_beats_risk"]
               else "does not beat contacting the riskiest")
    line = (f"uplift model, out of time on the newest {check['test_lists']} of "
            f"{check['lists']} lists: Qini area {areas['uplift']:+.4f} against "
            f"{areas['risk']:+.4f} for the riskiest and {areas['random']:+.4f} for random: "
            f"{verdict}; the list stays ranked by tier and value at risk")
    gain = check.get("stratum_gain_over_risk")
    if gain:  # the ordering `churn score --sort saved_value` uses
        line += (f"; expected saved value per tier x action (--sort saved_value): Qini gain "
                 f"over the riskiest {gain['gain']:+.4f} [{gain['low']:+.4f}, "
                 f"{gain['high']:+.4f}], " + ("above zero: try it" if check["stratum_beats_risk"]
                                              else "not above zero"))
    return line


def _pct(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value * 100:.1f}%"


def loop_lines(record: LoopRecord) -> list[str]:
    """The pooled effect overall, per tier and per planned action, one line each, in words
    (tier x action is in track_record_effects_pooled.csv)."""
    if record.pooled.empty:
        return ["no matured list with a holdout yet: the effect of contacting is not measured"]
    pooled = record.pooled
    rows = pd.concat([pooled[(pooled["tier"] == "*") & (pooled["planned_action"] == "*")],
                      pooled[(pooled["tier"] != "*") & (pooled["planned_action"] == "*")],
                      pooled[(pooled["tier"] == "*") & (pooled["planned_action"] != "*")]])
    lines = []
    for row in rows.to_dict("records"):
        who = ("all tiers" if row["tier"] == "*" else row["tier"]) + ", " + (
            "all actions" if row["planned_action"] == "*" else row["planned_action"])
        if not row["holdout"] or not row["contacted"]:
            lines.append(f"{who}: {row['contacted']} contacted, {row['holdout']} held out: "
                         "no comparison")
            continue
        verdict = ("interval includes zero: no effect shown" if row["includes_zero"]
                   else "interval excludes zero")
        lines.append(
            f"{who}: churn {_pct(row['churn_rate_contacted'])} of {row['contacted']} contacted "
            f"({row['reached']} reached) vs {_pct(row['churn_rate_holdout'])} of "
            f"{row['holdout']} held out; effect {_pct(row['effect'])} "
            f"[{_pct(row['effect_low'])}, {_pct(row['effect_high'])}] ({verdict}); "
            f"revenue kept {row['revenue_kept']:,.0f}, cost {row['cost']:,.0f}"
            + ("" if row["enough"] else
               f"; fewer than {MIN_CUSTOMERS_PER_ARM} customers in an arm"))
    return lines
