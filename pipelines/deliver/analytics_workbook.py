"""The analytics workbook: one sheet per table, Excel-safe like the risk list (text never
becomes a formula or a link; a text cell starting a formula keeps a quote prefix)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from models.analytics.bundle import AnalyticsTables
from models.analytics.cohorts import cohort_matrix
from pipelines.deliver.analytics_page import (
    band_names,
    band_sentence,
    clv_verdict,
    group_name,
    headline_figures,
)
from pipelines.deliver.i18n import analytics_label, catalog, tier_label
from pipelines.deliver.report import label_text
from pipelines.deliver.risk_list import FORMULA_TRIGGERS

SHARES = {"churn_rate", "retention_rate", "ci_low", "ci_high", "customer_retention",
          "revenue_retention", "within_sla_share", "unresolved_share", "contacted_share",
          "response_rate", "total_error_share", "revenue_share", "customer_share", "p_alive"}
# Column -> catalog key of its header (a column without one keeps its name).
HEADERS = {
    "period": "period", "cutoff": "cutoff", "dimension": "dimension", "group": "group",
    "customers": "customers", "churned": "churned", "churn_rate": "churn_rate",
    "retention_rate": "retention_rate", "cohort": "cohort", "cohort_customers":
    "cohort_customers", "months_since": "months_since", "complaints": "complaint_count",
    "resolved": "resolved", "resolution_median_hours": "resolution_median",
    "resolution_p90_hours": "resolution_p90", "within_sla_share": "within_sla",
    "unresolved_share": "unresolved", "satisfaction_mean": "satisfaction", "rated": "rated",
    "band": "band", "rate_ratio": "rate_ratio", "active_customers": "active_customers",
    "contacted": "contacted", "contacted_share": "contacted_share",
    "outbound_contacts": "outbound_contacts", "answered": "answered",
    "response_rate": "response_rate", "estimate": "estimate", "predicted_total":
    "predicted_total", "actual_total": "actual_total", "total_error_share": "total_error",
    "mae": "mae", "rmse": "rmse", "customer_id": "customer_id", "p_alive": "p_alive",
    "expected_purchases_12m": "expected_purchases", "expected_revenue_12m": "expected_revenue",
    "revenue_12m_low": "revenue_low", "revenue_12m_high": "revenue_high",
    "residual_value": "residual_value", "run_rate_12m": "run_rate", "customer_share":
    "customer_share", "revenue_share": "revenue_share", "tier": "tier", "revenue": "revenue",
}


def _localised(result: AnalyticsTables, lang: str) -> dict[str, pd.DataFrame]:
    """Sheet key -> the frame as it is written (names of groups, bands, tiers in `lang`)."""
    label = lambda key, **p: analytics_label(key, lang, **p)  # noqa: E731
    retention = result.retention.copy()
    retention["group"] = [group_name(d, g, lang) for d, g in
                          zip(retention["dimension"], retention["group"], strict=True)]
    retention["dimension"] = [label(f"dim_{d}") for d in retention["dimension"]]
    bands = result.bands.copy()
    bands["band"] = bands["band"].map(band_names(result, lang))
    check = result.clv_check.copy()
    check["estimate"] = [label(f"estimate_{e}") for e in check["estimate"]]
    sheets = {
        "sheet_retention": retention,
        "sheet_cohorts_customers": _matrix(result, "customer_retention"),
        "sheet_cohorts_revenue": _matrix(result, "revenue_retention"),
        "sheet_complaints": result.complaints,
        "sheet_bands": bands,
        "sheet_engagement": result.engagement,
        "sheet_clv_check": check,
        "sheet_clv": result.clv.drop(columns=["t_x", "T", "mean_spend", "x"]),
        "sheet_concentration": result.pareto,
    }
    if result.top_by_tier is not None:
        tiers = result.top_by_tier.copy()
        tiers["tier"] = [label("not_scored") if t == "(not scored)" else tier_label(t, lang)
                         for t in tiers["tier"]]
        sheets["sheet_tiers"] = tiers
    return sheets


def _matrix(result: AnalyticsTables, value: str) -> pd.DataFrame:
    matrix = cohort_matrix(result.cohorts, value) if len(result.cohorts) else pd.DataFrame()
    sizes = result.cohorts.drop_duplicates("cohort").set_index("cohort")["cohort_customers"]
    matrix.columns = [str(c) for c in matrix.columns]
    matrix.insert(0, "cohort_customers", sizes.reindex(matrix.index))
    return matrix.reset_index()


def summary_rows(result: AnalyticsTables, lang: str) -> list[tuple[str, object]]:
    """The summary sheet: the definition and the sentences the page leads with."""
    label = lambda key, **p: analytics_label(key, lang, **p)  # noqa: E731
    figures = headline_figures(result)
    rows: list[tuple[str, object]] = [
        (label("definition"), label_text("churn_definition_text", result.policy.label, lang)),
        (label("headline_top_share", share=f"{100 * result.policy.top_share:g} %"),
         result.top_share),
    ]
    if result.top_share_in_top_tiers is not None:
        rows.append((label("headline_top_at_risk"), result.top_share_in_top_tiers))
    for item in figures["retention"][-3:]:  # type: ignore[index]
        rows.append((label("retention_latest", period=item["period"]), item["retention_rate"]))
    if figures["within_sla_share"] is not None:
        rows.append((label("headline_sla", sla=f"{result.policy.sla_hours:g}"),
                     figures["within_sla_share"]))
    for sentence in (band_sentence(result, lang), clv_verdict(result, lang)):
        if sentence:
            rows.append(("", sentence))
    return rows


def write_analytics_workbook(result: AnalyticsTables, lang: str, path: Path) -> Path:
    """`path` (.xlsx): a summary sheet, then one sheet per table with a frozen header."""
    label = lambda key: analytics_label(key, lang)  # noqa: E731
    workbook = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "nan_inf_to_errors": False})
    bold = workbook.add_format({"bold": True})
    share = workbook.add_format({"num_format": "0.0%"})
    number = workbook.add_format({"num_format": "#,##0.00"})
    quoted = workbook.add_format({"quote_prefix": True})
    date_format = workbook.add_format({"num_format": catalog(lang).NUMBER["excel_date"]})
    summary = workbook.add_worksheet(label("sheet_summary")[:31])
    summary.set_column(0, 0, 48)
    summary.set_column(1, 1, 100)
    summary.write_string(0, 0, label("field"), bold)
    summary.write_string(0, 1, label("value"), bold)
    for row, (name, value) in enumerate(summary_rows(result, lang), start=1):
        _write(summary, row, 0, name, None, quoted)
        _write(summary, row, 1, value, share if isinstance(value, float) else None, quoted)
    for key, frame in _localised(result, lang).items():
        sheet = workbook.add_worksheet(label(key)[:31])
        columns = list(frame.columns)
        for index, column in enumerate(columns):
            header = analytics_label(HEADERS[column], lang) if column in HEADERS else column
            sheet.write_string(0, index, header, bold)
            sheet.set_column(index, index, max(12, min(40, len(header) + 2)))
        is_matrix = key.startswith("sheet_cohorts")
        for row, record in enumerate(frame.itertuples(index=False), start=1):
            for index, (column, value) in enumerate(zip(columns, record, strict=True)):
                style = share if (column in SHARES or (is_matrix and column.isdigit())) else \
                    number if isinstance(value, float) else None
                if column == "cutoff":
                    style = date_format
                _write(sheet, row, index, value, style, quoted)
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, max(len(frame), 1), max(len(columns) - 1, 0))
    workbook.close()
    return path


def _write(sheet, row: int, column: int, value: object, style, quoted) -> None:
    """Numbers as numbers, dates as dates, everything else as text (never a formula)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return
    if isinstance(value, bool | np.bool_):
        sheet.write_boolean(row, column, bool(value))
    elif isinstance(value, int | float | np.integer | np.floating):
        sheet.write_number(row, column, float(value), style)
    elif hasattr(value, "isoformat") and not isinstance(value, str):
        sheet.write_datetime(row, column, pd.Timestamp(value).to_pydatetime(), style)
    else:
        text = str(value)
        sheet.write_string(row, column, text, quoted if text.startswith(FORMULA_TRIGGERS)
                           else None)
