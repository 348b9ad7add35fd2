"""A scoring run's expected saved value, contact flags and cooldown, around `models.uplift`.

The uplift per tier x planned action is measured on the archive's matured randomised lists
(`loop_report.archive_loop_record`, as known at the run's as-of); the cooldown reads the
staged action log; whether the ordering beat ranking by risk out of time comes from
reports/uplift_check.json as the last `churn track-record` wrote it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from features.sources import SourceTables
from models.effects import MIN_CUSTOMERS_PER_ARM
from models.uplift import UPLIFT_SOURCE, contact_flags, cooldown_ends, measured_uplift
from pipelines.deliver.i18n import format_number, summary_label
from pipelines.deliver.loop_report import UPLIFT_FILE, archive_loop_record
from pipelines.deliver.params import ScoreParams
from pipelines.store.settings import Settings


def wanted(params: ScoreParams) -> bool:
    """Whether the run needs the expected saved value (the default run reads nothing more)."""
    return params.sort == "saved_value" or params.contact_capacity is not None


def scoring_uplift(settings: Settings, tables: SourceTables, as_of: dt.date,
                   actions: pd.DataFrame | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The measured uplift per stratum as known at `as_of`, and its record for metadata."""
    record = archive_loop_record(settings, tables, as_of, actions)
    table = measured_uplift(record.randomised, MIN_CUSTOMERS_PER_ARM)
    units = record.randomised
    return table, {
        "uplift_source": UPLIFT_SOURCE, "min_customers_per_arm": MIN_CUSTOMERS_PER_ARM,
        "matured_lists": int(units["run_id"].nunique()) if len(units) else 0,
        "strata_measured": int((table["uplift"] > 0).sum()) if len(table) else 0,
        "uplift": table.to_dict("records"),
    }


def uplift_verdict(settings: Settings) -> dict[str, Any]:
    """reports/uplift_check.json's verdict on the saved-value ordering: beaten only when its
    Qini gain over ranking by risk has a 95 % interval above zero."""
    try:
        check = json.loads((settings.reports_dir / UPLIFT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        check = {}
    gain = check.get("stratum_gain_over_risk")
    return {"status": check.get("status"), "gain_over_risk": gain,
            "beats_risk_out_of_time": bool(check.get("stratum_beats_risk")) and gain is not None}


def verdict_line(verdict: dict[str, Any], sort: str, lang: str) -> str | None:
    """One line: the ordering beat risk out of time (suggest it, or say it is in use), or it
    has not and `--sort saved_value` asked for it anyway (with the figures); else none."""
    gain = verdict.get("gain_over_risk")
    figures = {k: format_number(gain[k], lang, 4) for k in ("gain", "low", "high")} if gain \
        else {}
    if verdict["beats_risk_out_of_time"]:
        advice = "saved_value_in_use" if sort == "saved_value" else "saved_value_advice"
        return summary_label("saved_value_beats", lang, **figures,
                             advice=summary_label(advice, lang))
    if sort != "saved_value":
        return None
    shown = summary_label("saved_value_gain", lang, **figures) if figures else summary_label(
        "saved_value_no_check", lang)
    return summary_label("saved_value_not_beaten", lang, figures=shown)


def with_contact_plan(risk: pd.DataFrame, params: ScoreParams, actions: pd.DataFrame | None,
                      as_of: dt.date) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`risk` (holdout assigned) with `contact_this_week` and `cooldown_until` when the run
    has a contact capacity (unchanged without one), and the counts for metadata."""
    if params.contact_capacity is None:
        return risk, {"contact_capacity": None, "cooldown_days": params.cooldown_days}
    cooldown = cooldown_ends(actions, pd.Timestamp(as_of), params.cooldown_days)
    out = contact_flags(risk, params.contact_capacity, cooldown)
    return out, {"contact_capacity": params.contact_capacity,
                 "cooldown_days": params.cooldown_days,
                 "flagged": int(out["contact_this_week"].sum()),
                 "in_cooldown": int(out["cooldown_until"].ne("").sum())}


def contact_line(record: dict[str, Any], lang: str) -> str | None:
    """The run's contact flags in one line (none without a capacity)."""
    if record.get("contact_capacity") is None:
        return None
    return summary_label("contact_flagged", lang, flagged=record["flagged"],
                         capacity=record["contact_capacity"],
                         strata=record.get("strata_measured", 0),
                         cooling=record["in_cooldown"], days=record["cooldown_days"])
