"""`make loop-pipeline`: the loop driven by the pipeline's own lists, over a simulated year.

`bench.loop` runs the retention simulator with a list made by a CRM rule; here the list is
the one the pipeline writes. Each week of `pipelines.sample.retention_world.RetentionWorld`:

1. the week's exports land under `raw/` (orders, tickets, new sign-ups, and the action log
   of the week before under `raw/actions/`, in the columns the `actions` kind reads);
2. the weekly chain runs (`churn-weekly`: ingest, train when the retrain rules say so, the
   first week because there is no champion, score) with a fixed contact capacity;
3. the simulated team reads the risk list the run archived and works its contact arm
   (`TEAM_RULE` below), holdout rows untouched; the simulator records the true effect of
   each action on the customer at the moment it is applied;
4. the world advances one week.

After the last list the world runs on for one label window without lists, those exports are
ingested and `churn track-record` (the `churn-monitor` flow) grades every list: its pooled
effect per tier x planned action is set against the simulator's truth for the same customers.

Two arms run the same world from the same seed in two data dirs, both scoring with
`--contact-capacity N --cooldown-days <horizon>` (so every list records what the saved value
would flag): A keeps the list in its default order (risk: tier, then value at risk) and the
team calls the first N eligible rows; B scores from `switch_week` on with `--sort
saved_value` and the team calls the rows the pipeline flags (`contact_this_week`). Before
the switch both arms are the same. The figure: the true revenue kept (sum over actions of
true effect x annual revenue, less the action's cost, from the simulator) in each arm over the
weeks from the switch on, and B - A with a bootstrap interval over those weeks. The arms run
in two processes at once.

    python -m bench.loop_pipeline  # LOOP_PIPELINE_CUSTOMERS (1500), _WEEKS, _CAPACITY, _SWITCH

Figures are printed and written to `bench/results/<date>-loop-pipeline.json`. The CI test
(`tests/pipelines/sample/test_loop_pipeline.py`) runs arm A on 300 customers for 4 weeks
(28-day label window).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.sample.retention_world import (
    CALL,
    OFFER,
    LoopConfig,
    RetentionEffects,
    RetentionWorld,
)

RANDOMISED_TIERS = ("Critical", "At risk", "Watch")  # the tiers the policy holds out from
# The playbook's action -> what the simulator can do: a key naming an offer, a reminder, a
# nurture or a campaign is a discount offer; `no_action` is nothing; every other key (calls,
# complaint follow-ups, outreach, checks) is a call.
_OFFER_SUFFIXES = ("_offer", "_reminder", "_nurture", "_campaign")
TEAM_RULE = ("contact arm only (holdout rows never), tiers Critical / At risk / Watch, not "
             "contacted in the last label window; arm A: the first `capacity` such rows in "
             "the list's order; arm B after the switch: the rows the pipeline flags "
             "`contact_this_week`")


def simulator_action(key: str) -> str | None:
    """The simulator's action for a playbook action key (`TEAM_RULE`)."""
    if key in ("no_action", "", "nan"):
        return None
    return OFFER if key.endswith(_OFFER_SUFFIXES) else CALL


@dataclass(frozen=True)
class Arm:
    name: str
    capacity: int
    switch_week: int | None = None  # from this list on: --sort saved_value with the flags


@dataclass
class ArmRun:
    """One arm's weekly lists, the team's actions and the simulator's truth."""

    arm: Arm
    treated: pd.DataFrame  # one row per (week, customer) the week's truth was taken for
    actions: pd.DataFrame  # the action log as written under raw/actions/
    weeks: list[dict[str, Any]] = field(default_factory=list)
    pooled: pd.DataFrame | None = None  # the track record's pooled effects
    data_end: dt.date | None = None
    seconds: float = 0.0


def _action_log_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "action_at", "action", "cost",
                                       "list_run_id", "row_id", "action_id"])


def _write_exports(world: RetentionWorld, raw: Path, since: float, until: int,
                   log: pd.DataFrame) -> None:
    """The exports of days [since, until) under raw/<kind>/, named by their last day so they
    sort in arrival order; the action log beside them."""
    from pipelines.store.atomic import write_text_atomic

    stamp = world.day(until - 1)
    for kind, frame in world.export_frames(since, until).items():
        if len(frame):
            write_text_atomic(frame.to_csv(index=False), raw / kind / f"{kind}_{stamp}.csv")
    if len(log):
        write_text_atomic(log.to_csv(index=False), raw / "actions" / f"actions_{stamp}.csv")


def _read_list(path: str) -> pd.DataFrame:
    risk = pd.read_parquet(path)
    return risk.sort_values("row_id", kind="stable").reset_index(drop=True)


def _team_picks(risk: pd.DataFrame, arm: Arm, week: int, last_contact: dict[str, int],
                cooldown_days: int, t: int) -> pd.Series:
    """Which rows of the week's list the team contacts (`TEAM_RULE`)."""
    mapped = risk["planned_action"].astype(str).map(simulator_action)
    eligible = (~risk["holdout"].astype(bool) & risk["risk_tier"].isin(RANDOMISED_TIERS)
                & mapped.notna())
    if arm.switch_week is not None and week >= arm.switch_week:
        return eligible & risk["contact_this_week"].astype(int).eq(1)
    last = risk["customer_id"].astype(str).map(last_contact)
    cooled = last.isna() | (t - last >= cooldown_days)
    chosen = eligible & cooled
    return chosen & (chosen.cumsum() <= arm.capacity)


def run_arm(data_dir: Path, config: LoopConfig, arm: Arm, effects: RetentionEffects,
            params: Any = None, report=print) -> ArmRun:
    """`config.weeks` weekly chains on a fresh `data_dir` driven by `arm`, then one label
    window without lists and the track record."""
    from pipelines.deliver.loop_report import POOLED_FILE
    from pipelines.deliver.params import ScoreParams
    from pipelines.flows import ingest_flow, weekly_flow
    from pipelines.operate.monitor_commands import track_record
    from pipelines.store.settings import Settings

    started = time.perf_counter()
    settings = Settings.from_env(data_dir)
    root, horizon = str(settings.data_dir), config.horizon_days
    world = RetentionWorld(config, effects)
    for _ in range(config.warmup_weeks):
        world.advance()
    since: float = -np.inf
    log = _action_log_frame([])
    all_logs: list[pd.DataFrame] = []
    treated: list[pd.DataFrame] = []
    last_contact: dict[str, int] = {}
    run = ArmRun(arm, pd.DataFrame(), log)
    for week in range(config.weeks):
        t = world.t
        _write_exports(world, settings.raw_dir, since, t, log)
        since = t
        switched = arm.switch_week is not None and week >= arm.switch_week
        # the capacity every week, so each list records the strata measured and its flags
        # (arm A's team reads the list's order, not the flags)
        score = ScoreParams(sort="saved_value" if switched else "tier",
                            contact_capacity=arm.capacity, cooldown_days=horizon)
        score = score.model_copy(update={"tier_policy": score.tier_policy.model_copy(
            update={"holdout_share": config.holdout_share})})
        clock = time.perf_counter()
        result = weekly_flow(root, params=params, score_params=score)
        seconds = time.perf_counter() - clock
        risk = _read_list(result["scored"]["risk_list_parquet"])
        saved_value = json.loads((Path(result["scored"]["run_dir"]) / "metadata.json")
                                 .read_text(encoding="utf-8")).get("saved_value", {})
        picks = _team_picks(risk, arm, week, last_contact, horizon, t)
        run_id = str(risk["list_run_id"].iloc[0])
        fresh = risk["assigned_in"].astype(str).eq(run_id) & risk["risk_tier"].isin(
            RANDOMISED_TIERS)
        mapped = risk["planned_action"].astype(str).map(simulator_action)
        truth_rows = risk[(fresh | picks) & mapped.notna()]
        position = truth_rows["customer_id"].str[1:].astype(int).to_numpy()
        action = mapped[truth_rows.index].to_numpy(dtype=str)
        contacted = picks[truth_rows.index].to_numpy(bool)
        done = world.treat(position, action, contacted)
        cost = effects.cost(action)
        treated.append(pd.DataFrame({
            "week": week, "run_id": run_id, "as_of": result["as_of"],
            "customer_id": truth_rows["customer_id"].to_numpy(),
            "assigned_in": truth_rows["assigned_in"].astype(str).to_numpy(),
            "fresh": fresh[truth_rows.index].to_numpy(bool),
            "tier": truth_rows["risk_tier"].to_numpy(),
            "planned_action": truth_rows["planned_action"].astype(str).to_numpy(),
            "action": action, "holdout": truth_rows["holdout"].astype(bool).to_numpy(),
            "contacted": contacted, "true_effect": done.true_effect,
            "p_churn_untreated": done.p_churn_untreated, "saved": done.saved,
            "hidden_state": done.state, "annual_revenue": world.revenue[position],
            "cost": np.where(contacted, cost, 0.0)}))
        acted = truth_rows[contacted]
        log = _action_log_frame([
            {"customer_id": c, "action_at": str(world.day(t)), "action": a, "cost": k,
             "list_run_id": run_id, "row_id": r, "action_id": f"ACT-{week:03d}-{i:05d}"}
            for i, (c, r, a, k) in enumerate(zip(acted["customer_id"], acted["row_id"],
                                                 action[contacted], cost[contacted],
                                                 strict=True))])
        all_logs.append(log)
        for c in acted["customer_id"]:
            last_contact[str(c)] = t
        run.weeks.append({
            "week": week, "as_of": result["as_of"], "as_of_expected": str(world.day(t - 1)),
            "retrained": result["retrain"]["due"], "retrain_reason": result["retrain"]["reason"],
            "model_version": str(result["scored"].get("model_version", "")),
            "listed": len(risk), "randomised_fresh": int(fresh.sum()),
            "held_out_fresh": int((fresh & risk["holdout"].astype(bool)).sum()),
            "contacted": int(contacted.sum()), "sort": score.sort,
            "flagged": int(risk["contact_this_week"].sum()) if "contact_this_week" in risk
            else None, "matured_lists": saved_value.get("matured_lists"),
            "strata_measured": saved_value.get("strata_measured"), "seconds": round(seconds, 2),
            "step_seconds": {k: round(v, 2) for k, v in result.get("seconds", {}).items()}})
        report(f"{arm.name} week {week:>2} as of {result['as_of']}: {len(risk)} listed, "
               f"{int(fresh.sum())} randomised, {int(contacted.sum())} contacted "
               f"({score.sort}), {'retrained' if result['retrain']['due'] else 'no retrain'}"
               f" in {seconds:.1f} s")
        world.advance()
    # one label window more, without lists: every list matures
    for _ in range(-(-horizon // 7)):
        t = world.t
        _write_exports(world, settings.raw_dir, since, t, log)
        log, since = _action_log_frame([]), t
        world.advance()
    _write_exports(world, settings.raw_dir, since, world.t, log)
    ingest_flow(root)
    run.data_end = world.day(world.t - 1)
    # `churn track-record --data-end <data end>`, in this process
    track_record(Path(root), dt.datetime.combine(run.data_end, dt.time()))
    run.pooled = pd.read_csv(settings.reports_dir / POOLED_FILE)
    run.treated = pd.concat(treated, ignore_index=True)
    run.actions = pd.concat(all_logs, ignore_index=True)
    run.seconds = round(time.perf_counter() - started, 1)
    return run


def true_itt(treated: pd.DataFrame) -> pd.DataFrame:
    """The truth the track record estimates, per randomised customer of each list: the true
    effect of what the team did to them during the list's window (0 when nothing; holdout
    rows: nothing), and of the planned action had it been done (`true_effect_if_contacted`)."""
    randomised = treated[treated["fresh"]].rename(columns={"run_id": "list"})
    done = (treated[treated["contacted"]].groupby(["assigned_in", "customer_id"])
            ["true_effect"].sum().rename("true_effect_itt").reset_index())
    out = randomised.merge(done, left_on=["list", "customer_id"],
                           right_on=["assigned_in", "customer_id"], how="left",
                           suffixes=("", "_done"))
    return out.assign(true_effect_itt=out["true_effect_itt"].fillna(0.0),
                      true_effect_if_contacted=out["true_effect"])


def recovery(run: ArmRun) -> pd.DataFrame:
    """The track record's pooled rows beside the truth of the same customers: the mean over
    the contact arm of the effect of what was done (what an intention-to-treat figure
    measures), and the mean over all of them of the planned action's effect."""
    units = true_itt(run.treated)
    contact = units[~units["holdout"]]
    rows = []
    for tier_all in (False, True):
        for action_all in (False, True):
            keys = [k for k, every in (("tier", tier_all), ("planned_action", action_all))
                    if not every]
            c = contact.groupby(keys) if keys else contact.groupby(lambda _: 0)
            a = units.groupby(keys) if keys else units.groupby(lambda _: 0)
            frame = pd.concat([c["true_effect_itt"].mean(),
                               a["true_effect_if_contacted"].mean()], axis=1).reset_index()
            if not keys:
                frame = frame.drop(columns="index")
            rows.append(frame.assign(**({"tier": "*"} if tier_all else {}),
                                     **({"planned_action": "*"} if action_all else {})))
    truth = pd.concat(rows, ignore_index=True)
    assert run.pooled is not None
    out = run.pooled.merge(truth, on=["tier", "planned_action"], how="left")
    out["covered"] = (out["effect_low"] <= out["true_effect_itt"]) & (
        out["true_effect_itt"] <= out["effect_high"])
    return out


def kept_by_week(run: ArmRun, from_week: int) -> pd.Series:
    """True revenue kept per week from `from_week` on: sum over the week's actions of the
    true effect x annual revenue, less their cost."""
    done = run.treated[run.treated["contacted"] & (run.treated["week"] >= from_week)]
    kept = (done["true_effect"] * done["annual_revenue"] - done["cost"]).groupby(
        done["week"]).sum()
    return kept.reindex(range(from_week, int(run.treated["week"].max()) + 1), fill_value=0.0)


def gain_interval(a: pd.Series, b: pd.Series, draws: int = 4000, seed: int = 0
                  ) -> dict[str, float]:
    """B - A summed over the weeks, with a 95 % bootstrap interval over weeks (paired)."""
    diff = (b - a).to_numpy(float)
    rng = np.random.default_rng(seed)
    sums = diff[rng.integers(0, diff.size, (draws, diff.size))].sum(axis=1)
    low, high = np.quantile(sums, [0.025, 0.975])
    return {"kept_a": float(a.sum()), "kept_b": float(b.sum()), "gain": float(diff.sum()),
            "gain_low": float(low), "gain_high": float(high), "weeks": int(diff.size)}


def arm_figures(run: ArmRun) -> dict[str, Any]:
    table = recovery(run)
    return {
        "arm": asdict(run.arm), "seconds": run.seconds, "data_end": str(run.data_end),
        "lists": len(run.weeks), "retrains": sum(w["retrained"] for w in run.weeks),
        "actions_logged": len(run.actions),
        "randomised": int(run.treated["fresh"].sum()),
        "held_out": int((run.treated["fresh"] & run.treated["holdout"]).sum()),
        "as_of_as_expected": all(w["as_of"] == w["as_of_expected"] for w in run.weeks),
        "recovery": json.loads(table.to_json(orient="records")),
        "strata_covered": f"{int(table['covered'].sum())} of {len(table)}",
        "per_week": run.weeks,
    }


def _signed(value: Any) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:+.3f}"


def summary_lines(figures: dict[str, Any]) -> list[str]:
    lines = []
    for name in ("arm_a", "arm_b"):
        arm = figures.get(name)
        if arm is None:
            continue
        lines.append(f"{name}: {arm['lists']} lists, {arm['retrains']} trainings, "
                     f"{arm['randomised']} randomised ({arm['held_out']} held out), "
                     f"{arm['actions_logged']} actions, {arm['seconds']:.0f} s; intervals "
                     f"covering the true effect: {arm['strata_covered']}")
        for row in arm["recovery"]:
            lines.append(f"  {row['tier']:>8} {row['planned_action']:>24}: measured "
                         f"{_signed(row['effect'])} [{_signed(row['effect_low'])}, "
                         f"{_signed(row['effect_high'])}] true {_signed(row['true_effect_itt'])}"
                         f" (if all contacted {_signed(row['true_effect_if_contacted'])}; "
                         f"{row['contacted']} contacted, {row['reached']} reached, "
                         f"{row['holdout']} held out)")
    gain = figures.get("saved_value_vs_risk")
    if gain:
        lines.append(f"true revenue kept net of cost, weeks {gain['from_week']}-"
                     f"{gain['from_week'] + gain['weeks'] - 1}: risk (A) {gain['kept_a']:,.0f}, "
                     f"saved value (B) {gain['kept_b']:,.0f}; gain {gain['gain']:,.0f} "
                     f"[{gain['gain_low']:,.0f}, {gain['gain_high']:,.0f}]")
    return lines


def _settings_from_env() -> tuple[LoopConfig, int, int]:
    customers = int(os.environ.get("LOOP_PIPELINE_CUSTOMERS", "1500"))
    weeks = int(os.environ.get("LOOP_PIPELINE_WEEKS", "52"))
    capacity = int(os.environ.get("LOOP_PIPELINE_CAPACITY", str(max(5, customers // 100))))
    switch = int(os.environ.get("LOOP_PIPELINE_SWITCH", str(weeks // 2)))
    # the whole simulated calendar (warm-up, lists, one more label window) lies in the past:
    # ingest sets aside events after tomorrow, so a later week would see no new data
    config = LoopConfig(customers=customers, weeks=weeks, warmup_weeks=52,
                        holdout_share=0.5, truth_replicates=60, start=dt.date(2024, 1, 1))
    return config, capacity, switch


def _arms(capacity: int, switch: int) -> dict[str, Arm]:
    return {"a": Arm("A (risk)", capacity), "b": Arm("B (saved value)", capacity, switch)}


def run_one_arm(key: str, out: Path) -> None:
    """One arm in this process (its own data dir and Prefect API), its run pickled to `out`."""
    import pickle

    from models.params import TrainParams
    from pipelines.cli_common import prepare_environment

    config, capacity, switch = _settings_from_env()
    os.environ.setdefault("CHURN_PREFECT_SERVER", "ephemeral")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    data_dir = out.parent / key
    prepare_environment(data_dir)
    params = TrainParams(n_cutoffs=4, min_positives=20, min_negatives=20)
    run = run_arm(data_dir, config, _arms(capacity, switch)[key], RetentionEffects(), params,
                  report=lambda line: print(line, flush=True))
    out.write_bytes(pickle.dumps(run))


def main() -> None:
    """Both arms at once, one process each (they share nothing but the seed)."""
    import pickle
    import subprocess
    import sys

    from bench.run import machine, write_results

    config, capacity, switch = _settings_from_env()
    figures: dict[str, Any] = {"config": {k: str(v) for k, v in asdict(config).items()},
                               "effects": asdict(RetentionEffects()), "team_rule": TEAM_RULE,
                               "capacity": capacity, "switch_week": switch,
                               "load_before": os.getloadavg()}
    started = time.perf_counter()
    runs: dict[str, ArmRun] = {}
    with tempfile.TemporaryDirectory(prefix="churn-loop-pipeline-") as tmp:
        children = {key: subprocess.Popen([sys.executable, "-m", "bench.loop_pipeline", key,
                                           str(Path(tmp) / f"{key}.pickle")])
                    for key in os.environ.get("LOOP_PIPELINE_ARMS", "ab")}
        for key, child in children.items():
            if child.wait() != 0:
                raise SystemExit(f"arm {key} failed (exit {child.returncode})")
            runs[key] = pickle.loads((Path(tmp) / f"{key}.pickle").read_bytes())
            figures[f"arm_{key}"] = arm_figures(runs[key])
    if "a" in runs and "b" in runs:
        figures["saved_value_vs_risk"] = {
            "from_week": switch, "capacity": capacity,
            **gain_interval(kept_by_week(runs["a"], switch), kept_by_week(runs["b"], switch))}
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["load_after"] = os.getloadavg()
    for line in summary_lines(figures):
        print(line)
    write_results("loop-pipeline", {"machine": machine(), **figures})


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3:
        run_one_arm(sys.argv[1], Path(sys.argv[2]))
    else:
        main()
