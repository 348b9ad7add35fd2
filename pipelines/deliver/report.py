"""The one-page HTML report of a scoring run: self-contained (inline CSS, base64 charts).

Every label comes from the run's language catalog; every user-controlled text (names,
reasons) is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.labels import LabelSpec
from features.renewals import RENEWAL_GRACE_DAYS
from models.privacy import exported_contact_columns
from models.track_record import TrackRecord
from pipelines.deliver import charts, monitoring_section
from pipelines.deliver.i18n import (
    analytics_label,
    catalog,
    column_label,
    format_number,
    group_label,
    metric_label,
    percent,
    report_label,
    segment_label,
)
from pipelines.deliver.i18n import tier_label as _tier

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#2d3748;
background:#f7fafc}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.15rem;margin:0 0 12px}
.sub{color:#718096;margin-bottom:20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;
margin-bottom:20px}
.card{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card .n{font-size:1.7rem;font-weight:700}.card .l{color:#718096;font-size:.85rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
section{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.08);
margin-bottom:16px}
img{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #edf2f7;vertical-align:top}
th{background:#edf2f7}td.num{text-align:right;white-space:nowrap}
.tier{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:.8rem}
.note{color:#718096;font-size:.85rem}
"""


@dataclass
class ReportInputs:
    risk: pd.DataFrame
    metadata: dict[str, Any]
    tiers: list[str]
    top_tiers: list[str]
    lang: str = "en"
    lapsed_tier: str | None = None  # the policy's win-back tier, kept out of the headline
    lapsed_after_days: int | None = None
    history: pd.DataFrame | None = None
    label: LabelSpec = field(default_factory=LabelSpec)  # the model's: the history's window
    validation: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    calibration: pd.DataFrame | None = None
    lift: pd.DataFrame | None = None
    drift: pd.DataFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)
    currency: str | None = None  # the amounts' currency when known (else "the data's")
    # Headline figures of the retention analytics at this as-of (`analytics_headline`) and
    # the link to its page, relative to the report; None when not computed / not written.
    analytics: dict[str, Any] | None = None
    analytics_href: str | None = None
    monitoring: dict[str, Any] | None = None  # tracking.monitoring.scoring_monitoring
    track_record: TrackRecord | None = None  # of the lists shipped before this run


def _decimal(lang: str) -> str:
    return catalog(lang).NUMBER["decimal"]


def _esc(value: object) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and pd.isna(value))
                       else str(value))


def _table(header: list[str], rows: list[list[str]],
           numeric: Container[int] = frozenset()) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{_esc(title)}</h2>{content}</section>'


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{_esc(alt)}">'


def label_text(key: str, spec: LabelSpec, lang: str) -> str:
    """The REPORT template `key` for `spec`'s definition and gap, rendered in `lang`.

    A key that depends on the definition has the variants `<key>` (no_purchase), `<key>_gap`,
    `<key>_cancellation` and `<key>_cancellation_gap`; a key without variants (one sentence fits
    every spec) is used as it is. Every template gets `horizon`, `gap` and `span` (gap +
    horizon) and uses the ones it needs.
    """
    variant = key + ("" if spec.definition == "no_purchase" else f"_{spec.definition}") + (
        "_gap" if spec.gap_days else "")
    suffixes = ("_gap", "_cancellation", "_cancellation_gap")
    has_variants = any(key + suffix in catalog(lang).REPORT for suffix in suffixes)
    chosen = variant if has_variants else key
    return report_label(chosen, lang, horizon=spec.horizon_days, gap=spec.gap_days,
                        span=spec.span_days, grace=RENEWAL_GRACE_DAYS)


def render_report(inputs: ReportInputs) -> str:
    lang, risk, meta = inputs.lang, inputs.risk, inputs.metadata
    label = lambda key, **p: report_label(key, lang, **p)  # noqa: E731
    money = lambda v: format_number(float(v), lang)  # noqa: E731
    colours = charts.tier_colours(inputs.tiers, inputs.lapsed_tier)
    # the top tiers' values only (never the lapsed tier, TierPolicy): their whole rows, text
    # and all, were a copy of most of a large list
    top = risk.loc[risk["risk_tier"].isin(inputs.top_tiers), "value_at_risk"]
    top_names = ", ".join(_tier(t, lang) for t in inputs.top_tiers)
    cards = [
        (format_number(len(risk), lang), label("customers_scored")),
        (format_number(len(top), lang), label("customers_at_risk", tiers=top_names)),
        (money(risk["value_at_risk"].sum()), label("value_at_risk_all")),
        (money(top.sum()), label("value_at_risk_top")),
    ]
    if inputs.lapsed_tier is not None:
        lapsed = int((risk["risk_tier"] == inputs.lapsed_tier).sum())
        cards.append((format_number(lapsed, lang),
                      label("lapsed_customers", days=inputs.lapsed_after_days)))
    headline = "".join(f'<div class="card"><div class="n">{_esc(n)}</div>'
                       f'<div class="l">{_esc(t)}</div></div>' for n, t in cards)
    by_tier = risk.groupby("risk_tier").agg(n=("customer_id", "size"), v=("value_at_risk", "sum"))
    tier_rows = [[f'<span class="tier" style="background:{colours[t]}">{_esc(_tier(t, lang))}'
                  "</span>", format_number(by_tier.loc[t, "n"], lang), money(by_tier.loc[t, "v"])]
                 for t in inputs.tiers if t in by_tier.index]
    by_segment = risk.groupby("segment").agg(n=("customer_id", "size"), v=("value_at_risk", "sum"))
    by_segment = by_segment.sort_values("v", ascending=False)
    segment_rows = [[_esc(segment_label(s, lang)), format_number(r.n, lang), money(r.v)]
                    for s, r in by_segment.iterrows()]
    parts = [
        f"<h1>{_esc(label('title'))}</h1>",
        f'<div class="sub">{_esc(label("data_as_of"))}: {_esc(meta["as_of"])} · '
        f'{_esc(label("model_version"))}: {_esc(meta["model_version"])} · '
        f'{_esc(label("run_id"))}: {_esc(meta.get("run_id", ""))}</div>',
        monitoring_section.retrain_banner(inputs.monitoring, lang),
        (f'<p class="note" id="data-compatibility">'
         f'{_esc(inputs.notes["data_compatibility"])}</p>'
         if inputs.notes.get("data_compatibility") else ""),
        # expected saved value: the out-of-time verdict and the contact flags, when there are
        "".join(f'<p class="note saved-value">{_esc(line)}</p>'
                for line in meta.get("saved_value_lines", [])),
        f'<div class="cards" id="headline">{headline}</div>',
        f'<p class="note" id="value-split">{_esc(_value_split(inputs))}</p>',
        _analytics(inputs),
        '<div class="grid">',
        _section("by-tier", label("by_tier"), _table(
            [label("tier"), label("customers"), label("value_at_risk")], tier_rows, {1, 2})),
        _section("by-segment", label("by_segment"), _table(
            [label("segment"), label("customers"), label("value_at_risk")], segment_rows, {1, 2})),
        _section("risk-distribution", label("risk_distribution"), _img(charts.risk_distribution(
            risk["churn_probability"], risk["risk_tier"], inputs.tiers,
            {t: _tier(t, lang) for t in inputs.tiers}, label("churn_probability"),
            label("customers"), _decimal(lang), inputs.lapsed_tier), label("risk_distribution"))),
        _section("value-by-segment", label("value_by_segment"), _img(charts.horizontal_bars(
            by_segment["v"].rename(index=lambda s: segment_label(s, lang)),
            label("value_at_risk"), decimal=_decimal(lang)), label("value_by_segment"))),
        _common_reasons(inputs, label),
        _history(inputs, label),
        "</div>",
        _model_quality(inputs, label),
        # one drift figure per page: the monitoring section (its policy's thresholds) when
        # the run was monitored, else the medians-and-PSI table of the training snapshot
        _drift(inputs, label) if inputs.monitoring is None else "",
        monitoring_section.monitoring_html(inputs.monitoring, lang),
        monitoring_section.track_record_html(inputs.track_record, lang),
        _top_customers(inputs, label),
        f'<p class="note">{_esc(label("generated_by"))} · {_esc(label("churn_definition"))}: '
        f'{_esc(meta.get("churn_definition", ""))} · {_esc(label("tier_policy"))}: '
        f'{_esc(meta.get("tier_policy_text") or meta.get("tier_policy", {}).get("version"))}</p>',
    ]
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(label('title'))} {_esc(meta['as_of'])}</title><style>{CSS}</style>"
            f"</head><body><main>{''.join(parts)}</main></body></html>")


def _value_split(inputs: ReportInputs) -> str:
    """What value at risk is (with its currency) and how much of it sits in which tier."""
    lang, risk = inputs.lang, inputs.risk
    currency = (analytics_label("in_currency", lang, currency=inputs.currency)
                if inputs.currency else analytics_label("in_data_currency", lang))
    total = float(risk["value_at_risk"].sum())
    by_tier = risk.groupby("risk_tier")["value_at_risk"].sum()
    parts = [report_label("value_part", lang, value=format_number(float(by_tier[t]), lang),
                          share=percent(float(by_tier[t]) / total, lang) if total else "",
                          tier=_tier(t, lang))
             for t in inputs.tiers if t in by_tier.index and by_tier[t] > 0]
    text = report_label("amounts", lang, currency=currency)
    estimate = inputs.metadata.get("value_estimate") or {}
    if estimate.get("method") == "clv":
        text += " " + report_label(
            "value_estimate_clv", lang, cutoff=estimate["cutoff"],
            clv=format_number(float(estimate["clv_mae"]), lang),
            run_rate=format_number(float(estimate["run_rate_mae"]), lang),
            customers=format_number(float(estimate["customers"]), lang))
    elif estimate:
        text += " " + report_label("value_estimate_run_rate", lang)
    if parts:
        text += " " + report_label("value_split", lang, total=format_number(total, lang),
                                   parts="; ".join(parts))
    return text


def _analytics(inputs: ReportInputs) -> str:
    """Headline figures of the retention analytics and the link to its page."""
    figures, lang = inputs.analytics, inputs.lang
    if figures is None:
        return ""
    label = lambda key, **p: analytics_label(key, lang, **p)  # noqa: E731
    cards: list[tuple[str, str]] = []
    trend = figures.get("retention") or []
    if trend:
        text = label("retention_latest", period=trend[-1]["period"])
        if len(trend) > 1:
            change = 100 * (trend[-1]["retention_rate"] - trend[-2]["retention_rate"])
            text += " · " + label("retention_change", previous=trend[-2]["period"],
                                  change=f"{change:+.1f}".replace(".", _decimal(lang)))
        cards.append((percent(trend[-1]["retention_rate"], lang), text))
    if figures.get("top_revenue_share") is not None:
        cards.append((percent(figures["top_revenue_share"], lang), label(
            "headline_top_share", share=percent(figures["top_share"], lang, 0))))
    if figures.get("top_share_in_top_tiers") is not None:
        cards.append((percent(figures["top_share_in_top_tiers"], lang),
                       label("headline_top_at_risk")))
    if figures.get("within_sla_share") is not None:
        cards.append((percent(figures["within_sla_share"], lang),
                      label("headline_sla", sla=format_number(figures["sla_hours"], lang))))
    if figures.get("resolution_median_hours") is not None:
        cards.append((format_number(figures["resolution_median_hours"], lang),
                      label("headline_resolution")))
    body = "".join(f'<div class="card"><div class="n">{_esc(n)}</div>'
                   f'<div class="l">{_esc(t)}</div></div>' for n, t in cards)
    as_of = figures.get("as_of", "")
    link = (f'<p><a href="{_esc(inputs.analytics_href)}">{_esc(label("link", as_of=as_of))}'
            "</a></p>" if inputs.analytics_href
            else f'<p class="note">{_esc(label("link_missing", as_of=as_of))}</p>')
    return _section("analytics", report_label("analytics", lang),
                    f'<div class="cards">{body}</div>{link}')


def _common_reasons(inputs: ReportInputs, label) -> str:
    risk = inputs.risk
    top = risk.loc[risk["risk_tier"].isin(inputs.top_tiers),
                   [f"reason_group_{k}" for k in (1, 2, 3)]]  # the columns read, not the rows'
    groups = pd.concat([top[f"reason_group_{k}"] for k in (1, 2, 3)])
    counts = groups[groups != ""].value_counts().head(8)
    if counts.empty:
        return _section("common-reasons", label("common_reasons"),
                        f'<p class="note">{_esc(group_label("none", inputs.lang))}</p>')
    counts.index = [group_label(g, inputs.lang) for g in counts.index]
    return _section("common-reasons", label("common_reasons"), _img(
        charts.horizontal_bars(counts, label("customers"), "#ed8936", _decimal(inputs.lang)),
        label("common_reasons")))


def _history(inputs: ReportInputs, label) -> str:
    history = inputs.history
    if history is None or len(history) < 2:
        return _section("churn-over-time", label("churn_over_time"),
                        f'<p class="note">{_esc(inputs.notes.get("history", ""))}</p>')
    note = label_text("history_note", inputs.label, inputs.lang)
    return _section("churn-over-time", label("churn_over_time"), _img(charts.line(
        history["cutoff"], history["churn_rate"], label("cutoff"), label("churn_rate"),
        decimal=_decimal(inputs.lang)),
        label("churn_over_time")) + f'<p class="note">{_esc(note)}</p>')


def _model_quality(inputs: ReportInputs, label) -> str:
    lang = inputs.lang
    names = ("roc_auc", "pr_auc", "brier", "log_loss", "top_decile_lift")
    rows = [[_esc(metric_label(n, lang)), format_number(inputs.validation[n], lang, 3),
             format_number(inputs.baseline[n], lang, 3) if n in inputs.baseline else ""]
            for n in names if n in inputs.validation]
    content = _table([label("metric"), label("model"), label("baseline")], rows, {1, 2}) if rows \
        else f'<p class="note">{_esc(label("not_available", what=label("oot_metrics")))}</p>'
    charts_html = []
    if inputs.calibration is not None and len(inputs.calibration):
        charts_html.append(_img(charts.calibration(
            inputs.calibration["predicted"], inputs.calibration["observed"], label("predicted"),
            label("observed"), _decimal(lang)), label("calibration")))
    if inputs.lift is not None and len(inputs.lift):
        charts_html.append(_img(charts.lift(inputs.lift["decile"], inputs.lift["lift"],
                                            label("decile"), label("lift"), _decimal(lang)),
                                label("lift")))
    if charts_html:
        content += f'<div id="calibration-lift">{"".join(charts_html)}</div>'
    note = inputs.notes.get("calibration")
    if note:
        content += f'<p class="note">{_esc(note)}</p>'
    return _section("model-quality", label("model_quality"), content)


def _drift(inputs: ReportInputs, label) -> str:
    drift = inputs.drift
    if drift is None or drift.empty:
        return _section("drift", label("drift"),
                        f'<p class="note">{_esc(inputs.notes.get("drift", ""))}</p>')
    lang = inputs.lang
    rows = [[_esc(r.feature), format_number(r.training_median, lang, 1),
             format_number(r.current_median, lang, 1), format_number(r.psi, lang, 3)]
            for r in drift.itertuples()]
    return _section("drift", label("drift"), _table(
        [label("feature"), label("training_median"), label("current_median"), label("psi")],
        rows, {1, 2, 3}) + f'<p class="note">{_esc(label("drift_note"))}</p>')


def _top_customers(inputs: ReportInputs, label, n: int = 15) -> str:
    lang = inputs.lang
    contacts = exported_contact_columns(inputs.risk)  # only where the setting allows them
    columns = ["rank", "customer_id", "customer_name", *contacts, "owner", "risk_tier",
               "churn_probability", "value_at_risk", "reason_1", "reason_2", "reason_3",
               "suggested_action"]
    rows = []
    for r in inputs.risk.head(n).itertuples():
        rows.append([str(r.rank), _esc(r.customer_id), _esc(r.customer_name),
                     *(_esc(getattr(r, c)) for c in contacts),
                     _esc(getattr(r, "owner", "")), _esc(_tier(r.risk_tier, lang)),
                     percent(r.churn_probability, lang, 0),
                     format_number(r.value_at_risk, lang), _esc(r.reason_1),
                     _esc(getattr(r, "reason_2", "")), _esc(getattr(r, "reason_3", "")),
                     _esc(r.suggested_action)])
    return _section("top-customers", label("top_customers"), _table(
        [column_label(c, lang) for c in columns], rows,
        {0, 5 + len(contacts), 6 + len(contacts)}))
