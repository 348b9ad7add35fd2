"""The analytics page (`analytics/<as-of>/analytics.html`): one self-contained HTML file, inline
CSS and base64 PNG charts like the scoring report, every label from the language catalog and
every text from the data HTML-escaped."""

from __future__ import annotations

import html
from collections.abc import Callable, Container

import numpy as np
import pandas as pd

from models.analytics.bundle import AnalyticsTables
from models.analytics.cohorts import cohort_matrix
from models.analytics.retention import DIMENSIONS
from models.analytics.service import ALL_PERIODS, BANDS
from pipelines.deliver import analytics_charts as charts
from pipelines.deliver.i18n import (
    analytics_label,
    catalog,
    format_number,
    percent,
    segment_label,
    tier_label,
)
from pipelines.deliver.report import CSS, label_text

Label = Callable[..., str]
PAGE_CSS = "td:first-child{white-space:nowrap}"


def _esc(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[str]], numeric: Container[int] = frozenset()) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{_esc(title)}</h2>{content}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{_esc(alt)}">'


class Formats:
    """Numbers, shares and money in the page's language ("" for a missing value)."""

    def __init__(self, lang: str):
        self.lang = lang
        self.decimal = catalog(lang).NUMBER["decimal"]

    def n(self, value: float, decimals: int = 0) -> str:
        return "" if value is None or pd.isna(value) else format_number(float(value), self.lang,
                                                                        decimals)

    def pct(self, value: float | None, decimals: int = 1) -> str:
        return "" if value is None or pd.isna(value) else percent(float(value), self.lang,
                                                                  decimals)

    def interval(self, low: float, high: float) -> str:
        return "" if pd.isna(low) else f"{self.pct(low)} – {self.pct(high)}"


def band_names(result: AnalyticsTables, lang: str) -> dict[str, str]:
    low, high = (f"{d:g}" for d in result.policy.resolution_bands_days)
    return {band: analytics_label(f"band_{band}", lang, low=low, high=high) for band in BANDS}


def group_name(dimension: str, group: str, lang: str) -> str:
    if dimension == "rfm_segment":
        return segment_label(group, lang)
    if dimension == "all":
        return analytics_label("dim_all", lang)
    return group


def render_analytics_page(result: AnalyticsTables, lang: str = "en",
                          currency: str | None = None) -> str:
    label: Label = lambda key, **p: analytics_label(key, lang, **p)  # noqa: E731
    f = Formats(lang)
    money = label("in_currency", currency=currency) if currency else label("in_data_currency")
    policy = result.policy
    parts = [
        f"<h1>{_esc(label('title'))}</h1>",
        '<div class="sub">' + _esc(label("subtitle", as_of=str(result.as_of),
                                         period=label(f"period_{policy.period}"),
                                         currency=money)) + "</div>",
        f'<div class="cards" id="headline">{_cards(result, label, f)}</div>',
        _section("definition", label("definition"),
                 f"<p>{_esc(label_text('churn_definition_text', policy.label, lang))}</p>"
                 + _note(label("definition_note", active=policy.active_days))),
        _retention(result, label, f),
        _by_dimension(result, label, f),
        _cohorts(result, label, f),
        _complaints(result, label, f),
        _bands(result, label, f),
        _engagement(result, label, f),
        _clv(result, label, f),
        _concentration(result, label, f),
        _note(label("generated_by")),
    ]
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(label('title'))} {_esc(result.as_of)}</title>"
            f"<style>{CSS}{PAGE_CSS}</style>"
            f"</head><body><main>{''.join(parts)}</main></body></html>")


def whole_base(result: AnalyticsTables) -> pd.DataFrame:
    return result.retention[result.retention["dimension"] == "all"].reset_index(drop=True)


def headline_figures(result: AnalyticsTables) -> dict[str, object]:
    """The figures the scoring report shows: retention trend, top share, complaint KPIs."""
    base = whole_base(result)
    complaints = result.complaints
    overall = complaints[(complaints["period"] == ALL_PERIODS)
                         & (complaints["dimension"] == "all")] if len(complaints) else complaints
    row = overall.iloc[0] if len(overall) else None
    return {
        "as_of": str(result.as_of), "period": result.policy.period,
        "retention": [{"period": r.period, "retention_rate": float(r.retention_rate)}
                      for r in base.itertuples()],
        "top_share": result.policy.top_share, "top_revenue_share": result.top_share,
        "top_share_in_top_tiers": result.top_share_in_top_tiers,
        "sla_hours": result.policy.sla_hours,
        "within_sla_share": None if row is None else float(row["within_sla_share"]),
        "resolution_median_hours": None if row is None else float(row["resolution_median_hours"]),
    }


def _cards(result: AnalyticsTables, label: Label, f: Formats) -> str:
    base = whole_base(result)
    cards: list[tuple[str, str]] = []
    if len(base):
        latest = base.iloc[-1]
        text = label("retention_latest", period=latest["period"])
        if len(base) > 1:
            change = 100 * (latest["retention_rate"] - base.iloc[-2]["retention_rate"])
            text += " · " + label("retention_change", change=f"{change:+.1f}".replace(
                ".", f.decimal), previous=base.iloc[-2]["period"])
        cards.append((f.pct(latest["retention_rate"]), text))
    share = f.pct(result.policy.top_share, 0)
    cards.append((f.pct(result.top_share), label("headline_top_share", share=share)))
    if result.top_share_in_top_tiers is not None:
        cards.append((f.pct(result.top_share_in_top_tiers), label("headline_top_at_risk")))
    figures = headline_figures(result)
    if figures["within_sla_share"] is not None:
        cards.append((f.pct(figures["within_sla_share"]),  # type: ignore[arg-type]
                      label("headline_sla", sla=f.n(result.policy.sla_hours))))
        cards.append((f.n(figures["resolution_median_hours"]), label("headline_resolution")))  # type: ignore[arg-type]
    return "".join(f'<div class="card"><div class="n">{_esc(n)}</div>'
                   f'<div class="l">{_esc(t)}</div></div>' for n, t in cards)


def _retention(result: AnalyticsTables, label: Label, f: Formats) -> str:
    base = whole_base(result)
    if base.empty:
        return _section("retention", label("retention"), _note(label("clv_not_available",
                                                                     days=result.policy.label.span_days)))
    chart = _img(charts.rate_lines(list(base["period"]), {
        label("retention_rate"): base["retention_rate"], label("churn_rate"): base["churn_rate"]},
        label("retention_rate"), f.decimal), label("retention"))
    interval = label("interval", confidence=f.pct(result.policy.confidence, 0))
    rows = [[_esc(r.period), _esc(r.cutoff), f.n(r.customers), f.n(r.churned),
             f.pct(r.churn_rate), f.interval(r.ci_low, r.ci_high), f.pct(r.retention_rate)]
            for r in base.itertuples()]
    table = _table([label("period"), label("cutoff"), label("customers"), label("churned"),
                    label("churn_rate"), interval, label("retention_rate")], rows, {2, 3, 4, 5, 6})
    return _section("retention", label("retention"), chart + table)


def _by_dimension(result: AnalyticsTables, label: Label, f: Formats) -> str:
    rates = result.retention
    if rates.empty:
        return ""
    latest = rates["period"].iloc[-1]
    chosen = rates[(rates["period"] == latest) & (rates["dimension"] != "all")]
    interval = label("interval", confidence=f.pct(result.policy.confidence, 0))
    rows = [[_esc(label(f"dim_{r.dimension}")), _esc(group_name(r.dimension, r.group, f.lang)),
             f.n(r.customers), f.pct(r.churn_rate), f.interval(r.ci_low, r.ci_high)]
            for dimension in DIMENSIONS[1:]
            for r in _ordered(chosen[chosen["dimension"] == dimension]).itertuples()]
    return _section("by-dimension", label("by_dimension", period=latest), _table(
        [label("dimension"), label("group"), label("customers"), label("churn_rate"), interval],
        rows, {2, 3, 4}))


def _ordered(groups: pd.DataFrame) -> pd.DataFrame:
    """Tenure bands by their lower edge (`90-365` after `0-90`), other groups by name."""
    def key(group: str) -> tuple[float, str]:
        head = group.split("-")[0].rstrip("+")
        return (float(head), group) if head.isdigit() else (float("inf"), group)
    return groups.iloc[sorted(range(len(groups)), key=lambda i: key(groups["group"].iloc[i]))]


def _cohorts(result: AnalyticsTables, label: Label, f: Formats) -> str:
    cohorts = result.cohorts
    if cohorts.empty:
        return ""
    out = []
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["cohort_customers"]
    for value, key in (("customer_retention", "cohorts_customers"),
                       ("revenue_retention", "cohorts_revenue")):
        matrix = cohort_matrix(cohorts, value)
        chart = _img(charts.heat_map(matrix.clip(upper=1.5) if value == "revenue_retention"
                                     else matrix, label("months_since"), label("cohort"),
                                     f.decimal), label(key))
        header = [label("cohort"), label("cohort_customers")] + [str(c) for c in matrix.columns]
        rows = [[_esc(cohort), f.n(sizes[cohort])] + [f.pct(v, 0) for v in matrix.loc[cohort]]
                for cohort in matrix.index]
        out.append(_section(f"cohorts-{value}", label(key), chart + _table(
            header, rows, set(range(1, len(header))))))
    out[-1] = out[-1].replace("</section>", _note(label("cohorts_note")) + "</section>")
    return "".join(out)


def _complaint_rows(frame: pd.DataFrame, first: Callable[[pd.Series], str], f: Formats):
    return [[first(r), f.n(r["complaints"]), f.n(r["resolution_median_hours"]),
             f.n(r["resolution_p90_hours"]), f.pct(r["within_sla_share"]),
             f.pct(r["unresolved_share"]), f.n(r["satisfaction_mean"], 2)]
            for _, r in frame.iterrows()]


def _complaints(result: AnalyticsTables, label: Label, f: Formats) -> str:
    kpis = result.complaints
    if kpis.empty:
        return _section("complaints", label("complaints"), _note(label("no_complaints")))
    header = [label("complaint_count"), label("resolution_median"), label("resolution_p90"),
              label("within_sla"), label("unresolved"), label("satisfaction")]
    whole = kpis[kpis["dimension"] == "all"]
    by_period = _table([label("period")] + header, _complaint_rows(
        whole, lambda r: _esc(label("all_periods") if r["period"] == ALL_PERIODS
                              else r["period"]), f), set(range(1, 7)))
    categories = kpis[(kpis["dimension"] == "category") & (kpis["period"] == ALL_PERIODS)]
    periods = whole[whole["period"] != ALL_PERIODS]["period"]
    span = f"{periods.iloc[0]} – {periods.iloc[-1]}" if len(periods) else ""
    by_category = _table([label("category")] + header, _complaint_rows(
        categories, lambda r: _esc(r["group"]), f), set(range(1, 7)))
    return _section("complaints", label("complaints"), by_period
                    + _note(label("complaints_note", sla=f.n(result.policy.sla_hours)))
                    + f"<h2>{_esc(label('complaints_by_category', periods=span))}</h2>"
                    + by_category)


def band_sentence(result: AnalyticsTables, lang: str) -> str:
    """"Customers whose complaint took over 7 days churned 2.3x as often ..." ("" when a
    group is empty)."""
    bands = result.bands.set_index("band")
    slow, base = bands.loc["gt_high"], bands.loc["none"]
    if not slow["customers"] or not base["customers"] or pd.isna(slow["rate_ratio"]):
        return ""
    f = Formats(lang)
    return analytics_label("band_sentence", lang,
                           high=f"{result.policy.resolution_bands_days[1]:g}",
                           ratio=f.n(slow["rate_ratio"], 1), rate=f.pct(slow["churn_rate"]),
                           n=f.n(slow["customers"]), base=f.pct(base["churn_rate"]),
                           n_base=f.n(base["customers"]))


def _bands(result: AnalyticsTables, label: Label, f: Formats) -> str:
    bands = result.bands
    if result.complaints.empty:
        return ""
    names = band_names(result, f.lang)
    chart = _img(charts.rates_with_intervals(
        [names[b] for b in bands["band"]], bands["churn_rate"], bands["ci_low"],
        bands["ci_high"], label("churn_rate"), f.decimal), label("bands"))
    interval = label("interval", confidence=f.pct(result.policy.confidence, 0))
    rows = [[_esc(names[r.band]), f.n(r.customers), f.n(r.churned), f.pct(r.churn_rate),
             f.interval(r.ci_low, r.ci_high), f.n(r.rate_ratio, 2)] for r in bands.itertuples()]
    table = _table([label("band"), label("customers"), label("churned"), label("churn_rate"),
                    interval, label("rate_ratio")], rows, {1, 2, 3, 4, 5})
    sentence = band_sentence(result, f.lang)
    note = label("bands_note", cutoff=str(result.band_cutoff),
                 lookback=result.policy.complaint_lookback_days, as_of=str(result.as_of),
                 confidence=f.pct(result.policy.confidence, 0))
    return _section("bands", label("bands"), (f"<p><b>{_esc(sentence)}</b></p>" if sentence
                                              else "") + chart + table + _note(note))


def _engagement(result: AnalyticsTables, label: Label, f: Formats) -> str:
    frame = result.engagement
    if frame.empty:
        return _section("engagement", label("engagement"), _note(label("no_interactions")))
    rows = [[_esc(r.period), f.n(r.active_customers), f.n(r.contacted), f.pct(r.contacted_share),
             f.n(r.outbound_contacts), f.pct(r.response_rate)] for r in frame.itertuples()]
    return _section("engagement", label("engagement"), _table(
        [label("period"), label("active_customers"), label("contacted"),
         label("contacted_share"), label("outbound_contacts"), label("response_rate")],
        rows, {1, 2, 3, 4, 5}) + _note(label("engagement_note",
                                             days=result.policy.response_window_days)))


def clv_verdict(result: AnalyticsTables, lang: str) -> str:
    check = result.clv_check.set_index("estimate") if len(result.clv_check) else None
    if check is None:
        return ""
    best = check["mae"].idxmin()
    other = "run_rate" if best == "clv" else "clv"
    f = Formats(lang)
    return analytics_label("clv_verdict", lang, winner=analytics_label(f"estimate_{best}", lang),
                           mae_best=f.n(check.loc[best, "mae"]),
                           mae_other=f.n(check.loc[other, "mae"]))


def _clv(result: AnalyticsTables, label: Label, f: Formats) -> str:
    policy, clv = result.policy, result.clv
    text = _note(label("clv_note", days=policy.clv_horizon_days, years=policy.residual_years,
                       rate=f.pct(policy.annual_discount_rate, 0), as_of=str(result.as_of),
                       interval=f.pct(policy.interval, 0)))
    text += "<p>" + _esc(label("clv_totals", n=f.n(len(clv)),
                               total=f.n(clv["expected_revenue_12m"].sum()),
                               run_rate=f.n(clv["run_rate_12m"].sum()),
                               residual=f.n(clv["residual_value"].sum()))) + "</p>"
    check = result.clv_check
    if check.empty:
        body = _note(label("clv_not_available", days=policy.clv_horizon_days))
    else:
        rows = [[_esc(label(f"estimate_{r.estimate}")), f.n(r.predicted_total),
                 f.n(r.actual_total), f.pct(r.total_error_share), f.n(r.mae), f.n(r.rmse)]
                for r in check.itertuples()]
        body = (f"<p><b>{_esc(clv_verdict(result, f.lang))}</b></p>" + _table(
            [label("estimate"), label("predicted_total"), label("actual_total"),
             label("total_error"), label("mae"), label("rmse")], rows, {1, 2, 3, 4, 5})
            + _note(label("clv_comparison_note", cutoff=str(result.clv_cutoff),
                          n=f.n(check["customers"].iloc[0]), days=policy.clv_horizon_days)))
    return _section("clv", label("clv"), text + f"<h2>{_esc(label('clv_comparison'))}</h2>"
                    + body)


def _concentration(result: AnalyticsTables, label: Label, f: Formats) -> str:
    policy = result.policy
    chart = _img(charts.pareto(result.pareto, label("customer_share"), label("revenue_share"),
                               policy.top_share, f.decimal), label("concentration"))
    text = "<p>" + _esc(label("top_share_sentence", share=f.pct(policy.top_share, 0),
                              n=f.n(result.top_count), revenue_share=f.pct(result.top_share)))
    scored = result.scored
    if scored is None or result.top_by_tier is None:
        text += "</p>" + _note(label("no_risk_list", as_of=str(result.as_of)))
    else:
        tiers = ", ".join(tier_label(t, f.lang) for t in scored.top_tiers)
        text += " " + _esc(label("top_in_tiers_sentence", share=f.pct(
            result.top_share_in_top_tiers), tiers=tiers, run=scored.run_id)) + "</p>"
        rows = [[_esc(tier_label(r.tier, f.lang) if r.tier != "(not scored)"
                      else label("not_scored")), f.n(r.customers), f.n(r.revenue),
                 f.pct(r.revenue_share)] for r in result.top_by_tier.itertuples()]
        text += _table([label("tier"), label("customers"), label("revenue"),
                        label("revenue_share")], rows, {1, 2, 3})
    return _section("concentration", label("concentration"), chart + text
                    + _note(label("pareto_note", as_of=str(result.as_of))))
