"""The report's monitoring part: a retrain banner, the drift check of this run and the track
record of the lists shipped before it (table and chart), in the run's language.

Its labels live here (`LABELS`, one dict per language) rather than in the shared catalogs, so
the section travels as one piece.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from models.track_record import GRADED, TrackRecord
from pipelines.deliver import charts
from pipelines.deliver.i18n import format_number, render

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "monitoring": "Monitoring: this population against the training population",
        "retrain_due": "Retraining recommended: {reason}",
        "verdict_drift": "Drift: the population moved past the policy threshold (PSI ≥ {t}).",
        "verdict_stable": "Stable: no drift past the policy threshold (PSI ≥ {t}).",
        "score_psi": "PSI of the score", "customers_now": "Customers now",
        "customers_training": "Customers at training ({cutoff})",
        "label_rate_training": "Churn rate at training", "label_rate_latest":
        "Churn rate, latest matured cutoff ({cutoff})", "feature": "Feature", "psi": "PSI",
        "missing": "Missing (training → now)", "unseen": "Unseen categories",
        "no_reference": "No training reference for this model: drift not checked.",
        "track_record": "Track record of shipped lists",
        "as_of": "List as of", "version": "Model", "customers": "Customers",
        "realised_churn": "Realised churn", "roc_auc": "ROC-AUC (promised)",
        "pr_auc": "PR-AUC (promised)", "precision_top": "Precision, top tiers",
        "recall_top": "Recall, top tiers", "value_lost": "Value lost",
        "not_matured": "not matured yet (matures on {date})",
        "no_lists": "No list shipped before this one has matured yet.",
        "chart_y": "ROC-AUC", "realised": "realised", "promised": "promised out of time",
    },
    "tr": {
        "monitoring": "İzleme: bu kitle eğitim kitlesine göre",
        "retrain_due": "Yeniden eğitim önerilir: {reason}",
        "verdict_drift": "Kayma: kitle politika eşiğini aştı (PSI ≥ {t}).",
        "verdict_stable": "Kararlı: politika eşiğini aşan kayma yok (PSI ≥ {t}).",
        "score_psi": "Skorun PSI değeri", "customers_now": "Şimdiki müşteri sayısı",
        "customers_training": "Eğitimdeki müşteri sayısı ({cutoff})",
        "label_rate_training": "Eğitimde kayıp oranı", "label_rate_latest":
        "Kayıp oranı, son olgun kesim ({cutoff})", "feature": "Özellik", "psi": "PSI",
        "missing": "Eksik (eğitim → şimdi)", "unseen": "Görülmemiş kategoriler",
        "no_reference": "Bu model için eğitim referansı yok: kayma denetlenmedi.",
        "track_record": "Gönderilen listelerin karnesi",
        "as_of": "Liste tarihi", "version": "Model", "customers": "Müşteri",
        "realised_churn": "Gerçekleşen kayıp", "roc_auc": "ROC-AUC (vaat edilen)",
        "pr_auc": "PR-AUC (vaat edilen)", "precision_top": "Kesinlik, üst kademeler",
        "recall_top": "Duyarlılık, üst kademeler", "value_lost": "Kaybedilen değer",
        "not_matured": "henüz olgunlaşmadı ({date} tarihinde olgunlaşır)",
        "no_lists": "Bundan önce gönderilen listelerin hiçbiri henüz olgunlaşmadı.",
        "chart_y": "ROC-AUC", "realised": "gerçekleşen", "promised": "zaman dışı vaat",
    },
    "nl": {
        "monitoring": "Monitoring: deze populatie tegenover de trainingspopulatie",
        "retrain_due": "Opnieuw trainen aanbevolen: {reason}",
        "verdict_drift": "Drift: de populatie is voorbij de drempel verschoven (PSI ≥ {t}).",
        "verdict_stable": "Stabiel: geen drift voorbij de drempel (PSI ≥ {t}).",
        "score_psi": "PSI van de score", "customers_now": "Klanten nu",
        "customers_training": "Klanten bij training ({cutoff})",
        "label_rate_training": "Verloop bij training", "label_rate_latest":
        "Verloop, laatste afgeronde peildatum ({cutoff})", "feature": "Kenmerk", "psi": "PSI",
        "missing": "Ontbrekend (training → nu)", "unseen": "Onbekende categorieën",
        "no_reference": "Geen trainingsreferentie voor dit model: drift niet gecontroleerd.",
        "track_record": "Staat van dienst van verstuurde lijsten",
        "as_of": "Lijst per", "version": "Model", "customers": "Klanten",
        "realised_churn": "Werkelijk verloop", "roc_auc": "ROC-AUC (beloofd)",
        "pr_auc": "PR-AUC (beloofd)", "precision_top": "Precisie, hoogste niveaus",
        "recall_top": "Recall, hoogste niveaus", "value_lost": "Verloren waarde",
        "not_matured": "nog niet afgerond (rond af op {date})",
        "no_lists": "Nog geen eerder verstuurde lijst is afgerond.",
        "chart_y": "ROC-AUC", "realised": "werkelijk", "promised": "beloofd (out-of-time)",
    },
}
FEATURES_SHOWN = 8


def monitoring_label(key: str, lang: str, **params: object) -> str:
    template = LABELS.get(lang, LABELS["en"])[key]
    return render(template, params, lang) if params else template


def _html():
    # report.py imports this module; its HTML helpers are read when a section is rendered
    from pipelines.deliver import report

    return report


def _percent(value: float | None, lang: str) -> str:
    return "" if value is None or pd.isna(value) else format_number(100 * value, lang, 1) + "%"


def retrain_banner(monitoring: dict[str, Any] | None, lang: str) -> str:
    retrain = (monitoring or {}).get("retrain") or {}
    if not retrain.get("due"):
        return ""
    text = monitoring_label("retrain_due", lang, reason=retrain["reason"])
    return (f'<div class="card" id="retrain-banner" style="border-left:4px solid #d64545">'
            f"{_html()._esc(text)}</div>")


def monitoring_html(monitoring: dict[str, Any] | None, lang: str) -> str:
    r = _html()
    label = lambda key, **p: monitoring_label(key, lang, **p)  # noqa: E731
    if monitoring is None:
        return r._section("monitoring", label("monitoring"),
                          f'<p class="note">{r._esc(label("no_reference"))}</p>')
    threshold = format_number(monitoring["psi_threshold"], lang, 2)
    verdict = label("verdict_drift" if monitoring["drift"] else "verdict_stable", t=threshold)
    facts = [
        [r._esc(label("score_psi")), format_number(monitoring["score_psi"], lang, 3)],
        [r._esc(label("customers_now")), format_number(monitoring["population_current"], lang)],
        [r._esc(label("customers_training", cutoff=monitoring["reference_cutoff"])),
         format_number(monitoring["population_training"], lang)],
        [r._esc(label("label_rate_training")),
         _percent(monitoring.get("label_rate_training"), lang)],
    ]
    if monitoring.get("latest_matured_cutoff"):
        facts.append([r._esc(label("label_rate_latest",
                                   cutoff=monitoring["latest_matured_cutoff"])),
                      _percent(monitoring.get("label_rate_latest"), lang)])
    rows = [[r._esc(f["feature"]) + (" ⚠" if f["drifted"] else ""),
             format_number(f["psi"], lang, 3),
             f"{_percent(f['missing_training'], lang)} → {_percent(f['missing_current'], lang)}",
             r._esc(f["unseen"])]
            for f in monitoring["features"][:FEATURES_SHOWN]]
    content = (f"<p><strong>{r._esc(verdict)}</strong></p>" + r._table(["", ""], facts, {1})
               + r._table([label("feature"), label("psi"), label("missing"), label("unseen")],
                          rows, {1}))
    return r._section("monitoring", label("monitoring"), content)


def track_record_chart(record: TrackRecord, lang: str) -> str | None:
    """Realised and promised ROC-AUC of every graded list over time (a data URI)."""
    graded = record.graded
    if graded.empty:
        return None
    figure, axes = charts._figure()
    x = pd.to_datetime(graded["as_of"])
    axes.plot(x, graded["roc_auc"], marker="o", color="#3182ce",
              label=monitoring_label("realised", lang))
    axes.plot(x, graded["promised_roc_auc"], marker="s", linestyle="--", color="#a0aec0",
              label=monitoring_label("promised", lang))
    axes.set_ylabel(monitoring_label("chart_y", lang), color=charts.INK)
    axes.set_ylim(0.4, 1.0)
    if len(x) == 1:  # one list: a month either side, not matplotlib's default years
        axes.set_xlim(x.iloc[0] - pd.Timedelta(days=30), x.iloc[0] + pd.Timedelta(days=30))
    axes.legend(fontsize=8, frameon=False)
    figure.autofmt_xdate()
    return charts._png_data_uri(figure)


def track_record_html(record: TrackRecord | None, lang: str) -> str:
    r = _html()
    label = lambda key, **p: monitoring_label(key, lang, **p)  # noqa: E731
    if record is None or record.lists.empty:
        return r._section("track-record", label("track_record"),
                          f'<p class="note">{r._esc(label("no_lists"))}</p>')
    number = lambda v, d=3: "" if pd.isna(v) else format_number(v, lang, d)  # noqa: E731
    rows = []
    for item in record.lists.itertuples():
        head = [r._esc(item.as_of), r._esc(item.model_version), number(item.customers, 0)]
        if item.status != GRADED:
            rows.append(head + [r._esc(label("not_matured", date=str(item.matures_on)))]
                        + [""] * 5)
            continue
        rows.append(head + [
            _percent(item.churn_rate, lang),
            f"{number(item.roc_auc)} ({number(item.promised_roc_auc)})",
            f"{number(item.pr_auc)} ({number(item.promised_pr_auc)})",
            _percent(item.precision_top_tiers, lang), _percent(item.recall_top_tiers, lang),
            number(item.value_lost, 0)])
    content = r._table([label(k) for k in ("as_of", "version", "customers", "realised_churn",
                                           "roc_auc", "pr_auc", "precision_top", "recall_top",
                                           "value_lost")], rows, {2, 4, 5, 6, 7, 8})
    chart = track_record_chart(record, lang)
    if chart:
        content += r._img(chart, label("track_record"))
    return r._section("track-record", label("track_record"), content)
