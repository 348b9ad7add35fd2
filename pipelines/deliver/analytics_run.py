"""One `churn analyze` run: compute every table at the as-of date and write
`analytics/<as-of>/` (analytics.html, analytics.xlsx, headline.json) atomically.

The folder is built under a hidden name beside its final one (`analytics/.<as-of>.<owner>.<id>/`,
removed by the next run when a kill left it unlinked), and
`analytics/<as-of>` is a link to it that is switched in one rename, so readers never see half
of it, nor a moment without it; a rerun for the same date replaces the previous folder whole
and removes it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.labels import LabelSpec
from features.sources import SourceTables
from models.analytics.bundle import AnalyticsTables, ScoredList, analytics_tables
from models.analytics.policy import AnalyticsPolicy
from pipelines.deliver.analytics_page import (
    band_sentence,
    clv_verdict,
    headline_figures,
    render_analytics_page,
)
from pipelines.deliver.analytics_workbook import write_analytics_workbook
from pipelines.deliver.currency import data_currency
from pipelines.store import archive
from pipelines.store.leftovers import owner_token, remove_dead_temporaries
from pipelines.store.permissions import new_folder_mode
from pipelines.store.settings import Settings

PAGE, WORKBOOK, HEADLINE = "analytics.html", "analytics.xlsx", "headline.json"


def analytics_folder(settings: Settings, as_of: dt.date) -> Path:
    return settings.analytics_dir / str(as_of)


def scored_list_for(settings: Settings, as_of: dt.date) -> tuple[ScoredList | None,
                                                                 dict[str, Any] | None]:
    """The newest archived scoring run of `as_of` (its tiers and metadata), if any."""
    runs = archive.archived_runs(settings.scored_dir, as_of)  # complete runs only
    if not runs:
        return None, None
    meta = json.loads((runs[-1] / "metadata.json").read_text(encoding="utf-8"))
    risk = pd.read_parquet(runs[-1] / "risk_list.parquet",
                           columns=["customer_id", "risk_tier"])
    policy = meta.get("tier_policy", {})
    tiers = [t["name"] for t in policy.get("tiers", [])] + [policy.get("default", "Safe")]
    if policy.get("lapsed_after_days"):
        tiers.append(policy["lapsed"])
    return ScoredList(risk=risk, run_id=str(meta.get("run_id", runs[-1].name)),
                      tiers=tiers, top_tiers=list(policy.get("top_tiers", tiers[:1]))), meta


def model_label(settings: Settings, meta: dict[str, Any] | None) -> tuple[LabelSpec, str]:
    """The churn definition the analytics use: that of the scoring run of the same date,
    else of the newest scoring run, else the default; and where it came from."""
    if meta and meta.get("label"):
        return LabelSpec.model_validate(meta["label"]), f"scoring run {meta.get('run_id')}"
    latest_run = archive.latest_run_dir(settings.scored_dir)
    if latest_run is not None:
        data = json.loads((latest_run / "metadata.json").read_text(encoding="utf-8"))
        if data.get("label"):
            return LabelSpec.model_validate(data["label"]), f"scoring run {data.get('run_id')}"
    return LabelSpec(), "default LabelSpec (no scoring run yet)"


def write_analytics(settings: Settings, tables: SourceTables, as_of: dt.date,
                    policy: AnalyticsPolicy | None = None, lang: str = "en") -> dict[str, Any]:
    """Compute and write `analytics/<as_of>/`; what was written and the headline figures."""
    scored, meta = scored_list_for(settings, as_of)
    label, label_source = model_label(settings, meta)
    policy = (policy or AnalyticsPolicy()).model_copy(update={"label": label})
    result = analytics_tables(tables, as_of, policy, scored)
    currency = data_currency(settings)
    final = analytics_folder(settings, as_of)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(final.parent)  # folders of analytics runs that were killed
    temp = Path(tempfile.mkdtemp(prefix=f".{as_of}.{owner_token()}.", dir=final.parent))
    # mkdtemp makes it private; give it the mode any new folder gets: owner-only by default
    # (it lists customers' values), the group's too with CHURN_SHARED_FILES
    temp.chmod(new_folder_mode())
    try:
        (temp / PAGE).write_text(render_analytics_page(result, lang, currency), encoding="utf-8")
        write_analytics_workbook(result, lang, temp / WORKBOOK)
        headline = {**headline_figures(result), "lang": lang, "currency": currency,
                    "label": label.model_dump(), "label_source": label_source,
                    "scoring_run": scored.run_id if scored else None,
                    "band_sentence": band_sentence(result, lang),
                    "clv_verdict": clv_verdict(result, lang),
                    "clv_check": result.clv_check.to_dict(orient="records"),
                    "bands": result.bands.to_dict(orient="records"),
                    "policy": policy.model_dump(mode="json")}
        (temp / HEADLINE).write_text(json.dumps(headline, indent=2, default=str) + "\n",
                                     encoding="utf-8")
        _point_at(final, temp)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return {"folder": str(final), "page": str(final / PAGE), "workbook": str(final / WORKBOOK),
            "as_of": str(as_of), "headline": headline, "result": _summary(result)}


def _point_at(final: Path, folder: Path) -> None:
    """Make the link `final` point at `folder` in one rename; remove what it pointed at."""
    previous = final.resolve() if final.is_symlink() else None
    link = final.parent / f".{final.name}.link-{folder.name}"
    os.symlink(folder.name, link, target_is_directory=True)
    if final.exists() and not final.is_symlink():  # a plain folder (never written by us)
        shutil.rmtree(final)
    os.replace(link, final)
    if previous is not None and previous != folder.resolve():
        shutil.rmtree(previous, ignore_errors=True)


@dataclass(frozen=True)
class BaseFigures:
    """The scoring report's analytics over the whole base, which need no risk list: the
    retention trend, completed revenue in the last year, the complaint KPIs."""

    retention: pd.DataFrame
    revenue: pd.Series
    kpis: pd.DataFrame


def report_headline(as_of: dt.date, risk: pd.DataFrame, tiers: list[str],
                    top_tiers: list[str], label: LabelSpec,
                    figures: BaseFigures) -> dict[str, Any]:
    """The analytics figures the scoring report shows, computed for its own risk list: the
    retention trend of the whole base, the top customers' revenue share and how much of it
    sits in the top tiers, the complaint KPIs over the last periods (`figures`, from
    `pipelines.deliver.shard_pass`)."""
    from models.analytics.service import ALL_PERIODS
    from models.analytics.value import top_revenue_by_tier, top_share_of_revenue

    policy = AnalyticsPolicy(label=label)
    rates, revenue, kpis = figures.retention, figures.revenue, figures.kpis
    by_tier = top_revenue_by_tier(revenue, risk, policy.top_share, tiers)
    overall = kpis[(kpis["period"] == ALL_PERIODS) & (kpis["dimension"] == "all")]
    row = overall.iloc[0] if len(overall) else None
    return {
        "as_of": str(as_of), "period": policy.period,
        "retention": [{"period": r.period, "retention_rate": float(r.retention_rate)}
                      for r in rates.itertuples()],
        "top_share": policy.top_share,
        "top_revenue_share": top_share_of_revenue(revenue, policy.top_share),
        "top_share_in_top_tiers": float(by_tier.loc[by_tier["tier"].isin(top_tiers),
                                                    "revenue_share"].sum()),
        "sla_hours": policy.sla_hours,
        "within_sla_share": None if row is None or pd.isna(row["within_sla_share"])
        else float(row["within_sla_share"]),
        "resolution_median_hours": None if row is None or pd.isna(
            row["resolution_median_hours"]) else float(row["resolution_median_hours"]),
    }


def analytics_href(settings: Settings, as_of: dt.date, run_dir: Path) -> str | None:
    """The analytics page of `as_of` relative to a scoring run's folder, if it exists."""
    page = analytics_folder(settings, as_of) / PAGE
    return os.path.relpath(page, run_dir) if page.exists() else None


def _summary(result: AnalyticsTables) -> dict[str, Any]:
    """The figures `churn analyze` prints."""
    base = result.retention[result.retention["dimension"] == "all"]
    return {
        "retention": base[["period", "customers", "retention_rate"]].to_dict(orient="records"),
        "top_share": result.top_share, "top_share_in_top_tiers": result.top_share_in_top_tiers,
        "bands": result.bands.to_dict(orient="records"),
        "clv_check": result.clv_check.to_dict(orient="records"),
        "band_cutoff": str(result.band_cutoff), "clv_cutoff": str(result.clv_cutoff),
    }
