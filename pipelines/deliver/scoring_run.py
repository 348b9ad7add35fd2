"""One scoring run's folder, around the pure scoring code.

`run_scoring` takes the staged tables and the champion its task loaded, scores, renders the
list in the run's language, compares it with the previous run, and archives the deliverable
under `scored/<as-of>/<run-id>/`: risk_list.{csv,xlsx,parquet}, shap_contributions.parquet,
metadata.json, report.html and report.md. The folder is built under a temporary name and
renamed into the archive whole (`store.archive`), so a killed run leaves no partial folder.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from features.contracts import STAGED_SCHEMAS
from features.sources import SourceTables
from models import history
from models.compatibility import Compatibility
from models.explain import REASON_GROUPS
from models.playbook import default_playbook_text, parse_playbook
from models.privacy import with_personal_columns
from models.score import assigned_tiers, score_customers
from models.tiers import TierPolicy, base_rate_of, tier_changes
from models.train import FittedChurnModel
from pipelines.deliver.analytics_run import analytics_href, report_headline
from pipelines.deliver.currency import data_currency
from pipelines.deliver.holdouts import list_with_holdout
from pipelines.deliver.i18n import column_label, format_number, report_label, tier_label
from pipelines.deliver.loop_report import save_rates_in_force
from pipelines.deliver.params import ScoreParams
from pipelines.deliver.report import ReportInputs, label_text, render_report
from pipelines.deliver.risk_list import risk_list_workbook, write_risk_list_csv
from pipelines.deliver.run_history import KnownHistory, newest_matured_list
from pipelines.deliver.saved_value import (
    contact_line,
    scoring_uplift,
    uplift_verdict,
    verdict_line,
    wanted,
    with_contact_plan,
)
from pipelines.deliver.shard_pass import FactsRequest
from pipelines.deliver.summary import summary_markdown
from pipelines.deliver.wording import worded_risk_list
from pipelines.scale.scoring import run_facts, sharded_model_outputs
from pipelines.store import archive
from pipelines.store.atomic import (
    stream_text_atomic,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from pipelines.store.settings import Settings
from pipelines.store.staged import (
    SOURCE_KINDS,
    load_source_tables,
    load_staged_actions,
)
from pipelines.tracking import monitoring as monitor
from pipelines.tracking.compatibility import champion_fit, scored_with_no_data_text
from pipelines.tracking.registry import RegisteredModel, training_reliability, training_snapshot

PLAYBOOK_FILE = "playbook.csv"
OUTPUT_SLICE_ROWS = 131_072  # rows per row group of the run's parquet files
# What the workbook's metadata sheet says the list is sorted by (columns, in the list's language).
SORT_COLUMNS_SHOWN = {"tier": ("risk_tier", "value_at_risk"), "value": ("value_at_risk",),
                      "probability": ("churn_probability",),
                      "saved_value": ("expected_saved_value",)}


def _available(source: SourceTables | Path) -> tuple[str, ...]:
    """The source kinds of a staged version folder or of loaded tables."""
    if isinstance(source, Path):
        return tuple(kind for kind in SOURCE_KINDS if (source / f"{kind}.parquet").exists())
    return source.available


def _loaded(settings: Settings, source: SourceTables | Path) -> SourceTables:
    return load_source_tables(settings, source) if isinstance(source, Path) else source


def _master(source: SourceTables | Path) -> pd.DataFrame | None:
    """The customer master (a row per customer: the list's names and owners)."""
    if not isinstance(source, Path):
        return source.customers
    path = source / "customers.parquet"
    return STAGED_SCHEMAS["customers"].validate(pd.read_parquet(path)) if path.exists() \
        else None


def load_playbook(settings: Settings, policy: TierPolicy) -> tuple[pd.DataFrame, str]:
    """`<data-dir>/playbook.csv` when the team keeps one, else the shipped table."""
    own = settings.data_dir / PLAYBOOK_FILE
    groups = list(REASON_GROUPS)
    if own.exists():
        text = own.read_text(encoding="utf-8-sig")
        return parse_playbook(text, groups=groups, tiers=policy.names, source=str(own)), str(own)
    return parse_playbook(default_playbook_text(), groups=groups, tiers=policy.names,
                          drop_unknown_tiers=True), "shipped default (models/playbook.csv)"


def run_scoring(
    settings: Settings, source: SourceTables | Path, as_of: dt.date,
    champion: RegisteredModel, params: ScoreParams,
) -> dict[str, Any]:
    """Score every customer eligible at `as_of` with `champion`; write and archive the run
    folder (lists, workbook, report, metadata) and point `scored/latest` at it. `source`:
    a staged version folder (`staged_version_dir`), whose events are read one customer shard
    at a time (`pipelines.deliver.shard_pass`; Dask workers that see it build their shards'
    features themselves), or tables already in memory, taken as one shard."""
    model, version, model_run_id, meta = (champion.model, champion.version, champion.run_id,
                                          champion.meta)
    policy, sort, lang = params.tier_policy, params.sort, params.lang
    playbook, playbook_source = load_playbook(settings, policy)
    # the features, the value estimate, what the report and the monitoring say of the past
    # (churn history, base-wide figures, backtest, track record, volume) and the open
    # complaints: every pass over the events, before the model's outputs exist
    facts = run_facts(settings, source, FactsRequest(
        as_of, model.label, tuple(model.event_types),
        backtest=newest_matured_list(settings, as_of, model.label,
                                     with_master="customers" in _available(source))))
    features = facts.features
    assert features is not None  # run_facts builds them
    # Refused here, before anything is written, when the champion no longer fits the data.
    fit = champion_fit(settings, champion, facts.available, features)
    features = fit.with_no_data(features)
    revenue, past = facts.revenue, facts.past  # CLV where it predicted the past better
    # the expected saved value only when asked for (it reads the archive's matured lists and
    # the staged tables whole: the holdouts' outcomes)
    actions = load_staged_actions(settings) if wanted(params) else None
    uplift, saved = scoring_uplift(settings, _loaded(settings, source), as_of, actions) \
        if wanted(params) else (None, {})
    master, open_complaints = _master(source), facts.open_complaints
    # Nothing below reads the events. Tables passed in memory go before the outputs are made
    # (the caller passes them to this call alone): at a million customers the purchases and
    # interactions were 1.9 GB that made the run's peak beside the outputs and the risk list.
    del facts, source
    # probabilities, TreeSHAP and reasons by customer shard, on Dask when configured; the
    # reasons of the tiers someone reads (or everyone's), tiers known from the probabilities
    def listed(probability: pd.Series) -> pd.Series:  # the tiers someone reads
        return assigned_tiers(probability, features, policy, revenue.per_customer) \
            != policy.default

    outputs = sharded_model_outputs(model, features, fit.no_data_features,
                                    listed if params.reasons_for == "listed" else None)
    risk, contributions = score_customers(
        model, features, model_version=version, policy=policy, master=master,
        open_complaints=open_complaints, playbook=playbook,
        sort=sort, expected_revenue=revenue.per_customer,
        no_data_features=fit.no_data_features, uplift=uplift, outputs=outputs,
    )
    # the probabilities are what the monitoring reads of the outputs; the reasons' numbers
    # (a dict per reason) live on in the list until it is worded, then go
    probability = outputs.probability.to_numpy()
    del outputs
    run_id = archive.new_run_id()
    risk, holdout = list_with_holdout(risk, policy, as_of, run_id, settings.scored_dir)
    if wanted(params):  # after the holdout: a held-out customer is never flagged
        risk, plan = with_contact_plan(risk, params, actions, as_of)
        saved.update(plan)
    # read on every run: once the ordering beats risk out of time, the run says so
    saved["uplift_check"] = uplift_verdict(settings)
    saved_lines = [line for line in (verdict_line(saved["uplift_check"], sort, lang),
                                     contact_line(saved, lang)) if line]
    # only the personal columns CHURN_PERSONAL_COLUMNS allows reach the files (and the report)
    risk = with_personal_columns(worded_risk_list(risk, lang), master,
                                 settings.personal_columns)
    # the drift check and the track record as known at `as_of` (lists archived before this run)
    monitoring = monitor.scoring_monitoring(
        settings, features, champion, as_of, params.monitoring, past.record,
        churn_history=past.churn_history, volume=past.volume, probability=probability)
    previous, previous_run = archive.previous_risk_list(settings.scored_dir)
    changes = {"previous_run": previous_run, **tier_changes(previous, risk, policy)}
    run_dir = archive.final_run_dir(settings.scored_dir, as_of, run_id)
    tiers = risk["risk_tier"].value_counts().reindex(policy.names, fill_value=0).to_dict()
    base_rate = base_rate_of(risk["churn_probability"])
    metadata = {
        "as_of": str(as_of), "run_id": run_id, "model_version": version,
        "model_run_id": model_run_id, "customers_scored": len(risk), "tiers": tiers,
        "tier_policy": policy.record(), "tier_base_rate": round(base_rate, 6),
        "tier_cutoffs": {k: round(v, 6) for k, v in policy.cutoffs(base_rate).items()},
        "tier_policy_rule": policy.describe(base_rate), "sort": sort, "lang": lang,
        "label": model.label.model_dump(),
        "churn_definition": label_text("churn_definition_text", model.label, lang),
        "model_validation": model.validation, "model_baseline_recency": model.baseline,
        "model_valid_cutoff": meta.get("valid_cutoff"), "playbook": playbook_source,
        "value_estimate": {"method": revenue.method, **revenue.evidence},
        "value_at_risk_total": round(float(risk["value_at_risk"].sum()), 2),
        "value_at_risk_lapsed": round(float(risk.loc[risk["lapsed"], "value_at_risk"].sum()), 2),
        "changes": changes, "tracking_uri": settings.mlflow_tracking_uri,
        # whose reasons were computed: everyone, or everyone outside the default tier
        "reasons_for": params.reasons_for, "customers_explained": len(contributions),
        "data_compatibility": fit.record(),
        "holdout": holdout,
        # per action, measured by the holdouts of matured lists or the assumption, labelled
        "save_rates": save_rates_in_force(settings),
        # expected saved value: the uplift behind it, contact capacity, cooldown, verdict
        "saved_value": saved, "saved_value_lines": saved_lines,
    }
    metadata["tier_policy_text"] = tier_policy_text(metadata)  # the report's footer shows it
    # built under a temporary name, renamed into the archive whole once every file is there
    building = archive.create_partial_run_dir(settings.scored_dir, as_of, run_id)
    try:
        # the workbook is what people read: with `--reasons-for listed`, the listed tiers
        # (the Safe tier, unexplained, stays in the CSV and parquet, and the sheet says so)
        shown = risk if params.reasons_for == "all" else risk[risk["risk_tier"] != policy.default]
        sheet_notes = workbook_metadata(metadata, len(shown))
        if len(shown) < len(risk):
            sheet_notes.insert(0, (report_label("rows", lang), report_label(
                "workbook_listed", lang, shown=len(shown), total=len(risk),
                safe=tier_label(policy.default, lang), left=len(risk) - len(shown))))
        # The workbook's cells are Arrow kernels and deflate, which let go of the GIL: it is
        # built in a thread beside the CSV and the parquet files, which mostly hold it (a
        # million customers: 14 s and 12 s one after the other). Leaving the block waits for
        # it, so a failure here never removes the folder under a running workbook.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbook") as pool:
            workbook = pool.submit(risk_list_workbook, shown, sheet_notes, policy.names, lang,
                                   building / "risk_list.xlsx", lapsed=policy.lapsed_tier)
            stream_text_atomic(lambda out: write_risk_list_csv(risk, out, lang,
                                                               params.csv_delimiter),
                               building / "risk_list.csv", encoding="utf-8-sig")
            # a row group at a time: never the list or the contributions a second time whole
            # as Arrow, beside the workbook's cells (a million customers: the run's peak)
            write_parquet_atomic(risk, building / "risk_list.parquet", OUTPUT_SLICE_ROWS)
            write_parquet_atomic(contributions, building / "shap_contributions.parquet",
                                 OUTPUT_SLICE_ROWS)
            workbook.result()
        del shown
        write_json_atomic(metadata, building / "metadata.json")
        if monitoring is not None:
            write_json_atomic(monitoring, building / monitor.MONITORING_FILE)
        report = report_inputs(settings, features, risk, contributions, metadata, policy,
                               model, model_run_id, meta, past)
        report.monitoring, report.track_record = monitoring, past.record
        if fit.differences:
            report.notes["data_compatibility"] = no_data_note(fit, lang)
        write_text_atomic(render_report(report), building / "report.html")
        write_text_atomic(summary_markdown(risk, metadata), building / "report.md")
        archive.publish_run(settings.scored_dir, building, as_of, run_id)
    except BaseException:
        archive.discard_partial_run(building)
        raise
    archive.point_latest(settings.scored_dir, run_dir)
    csv_path, xlsx_path = run_dir / "risk_list.csv", run_dir / "risk_list.xlsx"
    html_path, md_path = run_dir / "report.html", run_dir / "report.md"
    return {
        "risk_list_csv": str(csv_path), "risk_list_xlsx": str(xlsx_path),
        "risk_list_parquet": str(run_dir / "risk_list.parquet"), "report": str(html_path),
        "report_md": str(md_path), "run_dir": str(run_dir), "as_of": str(as_of),
        "model_version": version, "customers_scored": len(risk), "tiers": tiers,
        "value_at_risk_total": metadata["value_at_risk_total"],
        "value_at_risk_lapsed": metadata["value_at_risk_lapsed"], "changes": changes,
        "lang": lang, "run_id": run_id,
        "holdout": {k: v for k, v in holdout.items() if k != "held_out_ids"},
        "monitoring": str(run_dir / monitor.MONITORING_FILE) if monitoring else None,
        "data_compatibility": scored_with_no_data_text(fit),
        "saved_value_lines": saved_lines,
    }


def no_data_note(fit: Compatibility, lang: str) -> str:
    """The report's line on what differed from the champion's training data, in `lang`."""
    if fit.no_data_features:
        what = ", ".join(fit.no_data_sources or fit.no_data_features[:3])
        return report_label("scored_with_no_data", lang, sources=what,
                            share=format_number(100 * fit.no_data_gain_share, lang, 0))
    return report_label("new_categories", lang, features=", ".join(
        d.subject for d in fit.differences if d.kind == "new_categories"))


def workbook_metadata(metadata: dict[str, Any], rows: int) -> list[tuple[str, Any]]:
    lang = metadata["lang"]
    label = lambda key: report_label(key, lang)  # noqa: E731
    validation = metadata["model_validation"]
    rows_out: list[tuple[str, Any]] = [
        (label("data_as_of"), metadata["as_of"]),
        (label("model_version"), metadata["model_version"]),
        (label("run_id"), metadata["run_id"]),
        (label("churn_definition"), metadata["churn_definition"]),
        (label("tier_policy"), tier_policy_text(metadata)),
        (label("rows"), rows),
        (label("sort"), ", ".join(column_label(c, lang)
                                  for c in SORT_COLUMNS_SHOWN[metadata["sort"]])),
        (label("language"), lang),
    ]
    if metadata.get("model_valid_cutoff"):
        rows_out.append((f"{label('oot_metrics')}: {label('cutoff')}",
                         metadata["model_valid_cutoff"]))
    rows_out += [(f"{label('oot_metrics')}: {k}", round(float(v), 4))
                 for k, v in validation.items()]
    rows_out += [(f"{label('tier')}: {tier_label(t, lang)}", n)
                 for t, n in metadata["tiers"].items()]
    if metadata.get("holdout"):
        held = metadata["holdout"]
        rows_out.append((label("holdout"), report_label(
            "holdout_rule", lang, held=held["held_out"], randomised=held["randomised"],
            carried=held["carried_over_held_out"], seed=held["seed"])))
    return rows_out


def tier_policy_text(metadata: dict[str, Any]) -> str:
    """The run's tier policy in its language: version, each tier's cut-off in force at this
    run's base rate (with the lift and probability it comes from), the base rate, the default
    and the lapsed rule."""
    lang = metadata["lang"]
    policy = metadata["tier_policy"]
    # The cut-offs in force at this run's base rate (lift tiers), else the policy's own.
    cutoffs = metadata.get("tier_cutoffs") or {}

    def rule(t: dict[str, Any]) -> str:
        cut = format_number(cutoffs.get(t["name"], t["min_probability"]), lang, 3)
        text = f"{tier_label(t['name'], lang)} ≥ {cut}"
        if t.get("min_lift"):
            text += " (" + report_label(
                "lift_rule", lang, lift=format_number(t["min_lift"], lang, 1),
                probability=format_number(t["min_probability"], lang, 2)) + ")"
        if t.get("capacity"):
            text += f" ({report_label('capacity', lang, n=t['capacity'])})"
        return text

    tiers = "; ".join(rule(t) for t in policy["tiers"])
    if metadata.get("tier_base_rate") is not None and any(t.get("min_lift")
                                                          for t in policy["tiers"]):
        tiers += "; " + report_label("base_rate", lang,
                                     rate=format_number(metadata["tier_base_rate"], lang, 3))
    tiers += f"; {tier_label(policy['default'], lang)}"
    if policy.get("lapsed_after_days"):
        tiers += "; " + report_label("lapsed_rule", lang, tier=tier_label(policy["lapsed"], lang),
                                     days=policy["lapsed_after_days"])
    return f"{policy['version']}: {tiers}"


def report_inputs(settings: Settings, features: pd.DataFrame, risk: pd.DataFrame,
                  contributions: pd.DataFrame, metadata: dict[str, Any], policy: TierPolicy,
                  model: FittedChurnModel, model_run_id: str, meta: dict[str, Any],
                  past: KnownHistory) -> ReportInputs:
    """Everything the HTML report shows; what cannot be computed gets a note instead.
    `past`: what the run read of the past before its outputs (`known_history`)."""
    lang, as_of = metadata["lang"], dt.date.fromisoformat(metadata["as_of"])
    def missing(what: str) -> str:
        return report_label("not_available", lang, what=report_label(what, lang))

    notes: dict[str, str] = {}
    churn_history = past.churn_history
    if len(churn_history) < 2:
        notes["history"] = missing("churn_over_time")
    calibration = lift = None
    if past.backtest is not None:
        joined, run = past.backtest
        calibration = history.calibration_table(joined["churn_probability"], joined["churned"])
        lift = history.lift_table(joined["churn_probability"], joined["churned"])
        notes["calibration"] = f"{report_label('run_id', lang)}: {run}"
    elif (reliability := training_reliability(model_run_id)) is not None:
        calibration = reliability
        notes["calibration"] = report_label("calibration_oot", lang,
                                            cutoff=str(meta.get("valid_cutoff", "")))
    else:
        notes["calibration"] = label_text("calibration_note", model.label, lang)
    drift = None
    main = history.main_features(contributions)
    training = training_snapshot(settings, model_run_id, columns=main)
    if training is not None:
        drift = history.feature_drift(training, features, main)
    else:
        notes["drift"] = missing("drift")
    run_dir = settings.scored_dir / str(as_of) / metadata["run_id"]
    headline = report_headline(as_of, risk, policy.names, policy.top_tiers, model.label,
                               past.figures)
    return ReportInputs(
        currency=data_currency(settings), analytics=headline,
        analytics_href=analytics_href(settings, as_of, run_dir),
        risk=risk, metadata=metadata, tiers=policy.names, top_tiers=policy.top_tiers, lang=lang,
        lapsed_tier=policy.lapsed_tier, lapsed_after_days=policy.lapsed_after_days,
        history=churn_history, label=model.label, validation=model.validation,
        baseline=model.baseline,
        calibration=calibration, lift=lift, drift=drift, notes=notes,
    )
