"""report.md and the printed run summary: in the run's language, ids and paths as they are."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.deliver.summary import changes_lines, ids_text, run_summary_lines, summary_markdown


def risk_list() -> pd.DataFrame:
    return pd.DataFrame({
        "rank": [1, 2], "customer_id": ["C001", "C|002"],
        "risk_tier": ["Critical", "Safe"], "churn_probability": [0.912, 0.05],
        "value_at_risk": [12345.6, 10.0],
        "reason_1": ["Son 12 ayda 3 şikayet.", "Öne çıkan tek bir neden yok."],
        "suggested_action": ["Bugün arayın.", "Şimdilik aksiyon gerekmiyor."],
    })


def metadata(lang: str, previous_run: str | None = None) -> dict:
    return {
        "as_of": "2024-06-30", "lang": lang, "model_version": "3",
        "model_run_id": "abc123", "churn_definition": "(text in the language)",
        "customers_scored": 1201, "value_at_risk_total": 12355.6,
        "tiers": {"Critical": 1, "Safe": 1200},
        "model_validation": {"roc_auc": 0.8123, "pr_auc": 0.5, "top_decile_lift": 3.456},
        "changes": {"previous_run": previous_run, "entered_top": ["C001"], "left_top": [],
                    "top_tiers": ["Critical"], "critical_tier": "Critical",
                    "new_critical": ["C001"]},
    }


def test_turkish_report_md_has_turkish_heading_labels_and_numbers():
    text = summary_markdown(risk_list(), metadata("tr"))
    lines = text.splitlines()
    assert lines[0] == "# Müşteri kaybı riski: 2024-06-30 tarihli veri"
    assert "- Model sürümü: 3 (MLflow çalıştırması abc123)" in lines
    assert "- Kayıp tanımı: (text in the language)" in lines
    assert lines[4:6] == ["- Puanlanan müşteri: 1.201", "- Toplam risk altındaki ciro: 12.356"]
    assert ("- Zaman dışı doğrulama: ROC-AUC 0,812, PR-AUC 0,500, en riskli %10'luk dilimde "
            "lift 3,46") in lines
    assert "- Arşivdeki ilk çalıştırma: henüz karşılaştırılacak önceki bir çalıştırma yok." in lines
    assert "| Risk seviyesi | Müşteri |" in lines and "| Güvende | 1.200 |" in lines
    assert "## İlk 10" in lines
    assert ("| Sıra | Müşteri No | Kayıp Olasılığı | Risk Altındaki Ciro | Risk Seviyesi | "
            "Ana neden | Önerilen Aksiyon |") in lines
    assert "| 1 | C001 | 0,91 | 12.346 | Kritik | Son 12 ayda 3 şikayet. | Bugün arayın. |" in lines
    assert "| 2 | C\\|002 | 0,05 | 10 | Güvende |" in text  # a pipe in an id cannot break the row


@pytest.mark.parametrize("lang, heading, since", [
    ("en", "# Churn risk: data as of 2024-06-30",
     "- Since the previous run (2024-05-31/r1): 1 customer entered the top tiers (Critical)"),
    ("nl", "# Risico op klantverloop: data t/m 2024-06-30",
     "- Sinds de vorige run (2024-05-31/r1): 1 klant erbij in de hoogste risiconiveaus"),
])
def test_report_md_heading_and_changes_follow_the_language(lang, heading, since):
    lines = summary_markdown(risk_list(), metadata(lang, "2024-05-31/r1")).splitlines()
    assert lines[0] == heading
    assert any(line.startswith(since) for line in lines)
    assert lines[lines.index(next(x for x in lines if x.startswith(since))) + 1] in (
        "- New in Critical: C001", "- Nieuw in Kritiek: C001")


def test_a_long_list_of_new_ids_is_cut_with_how_many_more():
    ids = [f"C{i}" for i in range(13)]
    assert ids_text(ids, "en", shown=10) == ", ".join(ids[:10]) + " (and 3 more)"
    assert ids_text(ids, "tr", shown=12) == ", ".join(ids[:12]) + " (ve 1 müşteri daha)"
    assert ids_text(ids[:2], "nl") == "C0, C1"


def test_no_new_critical_customers_means_no_new_in_line():
    changes = {**metadata("en", "2024-05-31/r1")["changes"], "new_critical": []}
    lines = changes_lines(changes, "en")
    assert len(lines) == 1 and lines[0].endswith("0 new in Critical.")


def test_run_summary_lines_in_dutch():
    result = {"tiers": {"Critical": 1, "Safe": 1200}, "value_at_risk_total": 12355.6,
              "changes": metadata("nl")["changes"]}
    assert run_summary_lines(result, "nl") == [
        "Risiconiveaus: Kritiek 1 · Veilig 1.200",
        "Totale omzet in gevaar: 12.356",
        "Eerste gearchiveerde run: nog niets om mee te vergelijken.",
    ]


def test_top_tiers_are_named_in_policy_order():
    changes = {**metadata("en", "r1")["changes"], "top_tiers": ["At risk", "Critical"]}
    line = changes_lines(changes, "tr", policy_order=["Critical", "At risk", "Safe"])[0]
    assert "üst risk seviyelerine (Kritik / Riskli)" in line
    assert "(Riskli / Kritik)" in changes_lines(changes, "tr")[0]  # no policy: as recorded


def test_the_lapsed_tier_gets_its_share_of_the_value_and_its_newcomers_counted():
    changes = {**metadata("tr", "r1")["changes"], "lapsed_tier": "Lapsed",
               "new_lapsed": ["C7", "C8"]}
    result = {"tiers": {"Critical": 1, "Safe": 1200, "Lapsed": 30}, "changes": changes,
              "value_at_risk_total": 12355.6, "value_at_risk_lapsed": 2500.4}
    lines = run_summary_lines(result, "tr")
    assert lines[0] == "Risk seviyeleri: Kritik 1 · Güvende 1.200 · Pasif 30"
    assert lines[1] == ("Toplam risk altındaki ciro: 12.356 (buna en sona sıralanan geri kazanım "
                        "kitlesi Pasif seviyesindeki 2.500 dahil)")
    assert lines[-1] == "Pasif seviyesine yeni düşenler (geri kazanım kitlesi): 2"
    md = summary_markdown(risk_list(), {**metadata("en", "r1"), "changes": {
        **changes, "new_lapsed": ["C7"]}, "value_at_risk_lapsed": 2500.4})
    assert ("- Total value at risk: 12,356, of which 2,500 in Lapsed (win-back, ranked last)"
            in md.splitlines())
    assert "- Newly Lapsed (win-back audience): 1" in md.splitlines()


def test_a_zero_lapsed_share_is_not_spelled_out():
    changes = {**metadata("en", "r1")["changes"], "lapsed_tier": "Lapsed", "new_lapsed": []}
    result = {"tiers": {"Critical": 1, "Lapsed": 30}, "changes": changes,
              "value_at_risk_total": 12355.6, "value_at_risk_lapsed": 0.0}
    assert run_summary_lines(result, "en")[1] == "Total value at risk: 12,356"
