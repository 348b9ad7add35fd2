"""The top customers and the run summary in the terminal: readable at 80 columns (CI logs,
piped output), the full table on a wide terminal, every label in the run's language."""

from __future__ import annotations

import pandas as pd
import pytest
from rich.cells import cell_len
from rich.console import Console

from pipelines.console import (
    FULL_TABLE_MIN_WIDTH,
    compact_top_lines,
    print_scoring,
    print_top_customers,
    tier_styles,
)

TIERS = ["Critical", "At risk", "Watch", "Safe"]
LONG_REASON = ("No purchase for 174 days; usually buys every 21 days, and the last three orders "
               "were all smaller than the one before.")  # 120 characters


def risk_list() -> pd.DataFrame:
    return pd.DataFrame({
        "rank": [1, 2, 3],
        "customer_id": ["C001", "C002", "C003"],
        "customer_name": ["Yılmaz Gıda Sanayi ve Ticaret Anonim Şirketi İstanbul Şubesi",
                          "Dekker B.V.", None],
        "segment": ["At risk", "Loyal", "Lost"],
        "risk_tier": ["Critical", "At risk", "Watch"],
        "churn_probability": [0.912, 0.55, 0.301],
        "value_at_risk": [12345.6, 980.0, 15.0],
        "reason_1": [LONG_REASON, "Unsubscribed from the newsletter.", "[bold]Odd[/bold] note."],
        "reason_2": ["A complaint has been open for 12 days.", "", ""],
        "reason_3": ["", "", ""],
        "suggested_action": ["Call today.", "Send a reorder reminder.", "No action needed."],
    })


def rendered(width: int, lang: str = "en", risk: pd.DataFrame | None = None) -> list[str]:
    out = Console(width=width, record=True, color_system=None)
    print_top_customers(out, risk_list() if risk is None else risk, lang, "2024-06-30", TIERS)
    return out.export_text().splitlines()


def test_at_80_columns_no_line_is_wider_and_each_top_reason_is_one_line():
    lines = rendered(80)
    assert max(cell_len(line) for line in lines) <= 80
    assert lines[0] == "Top 3 of 3 customers (data as of 2024-06-30)"
    # Rank 1 wide, tier 8 ("Critical"), probability 5 ("Prob."), value 13 ("Value at risk"),
    # four gaps of 2: the customer column gets 80 - 27 - 8 = 45 cells.
    assert lines[1] == "#  " + "Customer".ljust(45) + "  Tier      Prob.  Value at risk"
    name = "C001 Yılmaz Gıda Sanayi ve Ticaret Anonim Şi…"  # 44 cells and the ellipsis
    assert lines[3] == "1  " + name + "  Critical   0.91         12,346"
    assert cell_len(name) == 45
    # Indent 3 ("#" column + gap), label 6 ("Reason"/"Action") + gap: 69 cells for the text.
    assert lines[4] == "   Reason  " + LONG_REASON[:68] + "…"
    assert lines[5] == "   Action  Call today."
    assert "   Reason  Unsubscribed from the newsletter." in lines
    assert "   Reason  [bold]Odd[/bold] note." in lines  # names and reasons are not markup
    assert lines[9] == "3  C003".ljust(3 + 45) + "  Watch      0.30             15"
    assert len(lines) == 3 + 3 * 3


def test_a_customer_name_with_wide_characters_is_cut_to_its_cells():
    risk = risk_list().assign(customer_name=["株式会社" * 20, "Dekker B.V.", None])
    lines = rendered(80, risk=risk)
    assert max(cell_len(line) for line in lines) <= 80
    assert "…" in lines[3]


def test_even_a_very_narrow_console_gets_no_wrapped_line():
    lines = rendered(40)
    assert max(cell_len(line) for line in lines) <= 40
    assert any(line.startswith("   Reason  No purchase for 174") for line in lines)


def test_the_compact_layout_is_labelled_and_numbered_in_turkish():
    lines = rendered(80, "tr")
    assert lines[0] == "3 müşteri içinden ilk 3 (veri tarihi: 2024-06-30)"
    assert lines[1].split() == ["#", "Müşteri", "Seviye", "Olasılık", "Riskteki", "ciro"]
    # Tier column 7 ("Takipte"), probability 8 ("Olasılık"), value 13 ("Riskteki ciro").
    assert lines[3].endswith("  Kritik       0,91         12.346")
    assert lines[4].startswith("   Neden    No purchase")
    assert lines[5] == "   Aksiyon  Call today."


def test_from_140_columns_the_full_table_shows_every_reason_and_the_segment():
    lines = rendered(160)
    text = "\n".join(lines)
    assert max(cell_len(line) for line in lines) <= 160
    assert "Reasons" in lines[2] and "Suggested action" in lines[2]
    assert "A complaint has been open for 12 days." in text  # a second reason
    assert "At risk" in text and "Loyal" in text  # segments
    assert "   Reason  " not in text
    assert rendered(FULL_TABLE_MIN_WIDTH)[1].startswith("┏")
    assert not rendered(FULL_TABLE_MIN_WIDTH - 1)[1].startswith("┏")


def test_tiers_are_coloured_by_their_position_in_the_policy():
    assert tier_styles(TIERS) == {"Critical": "bold red", "At risk": "yellow",
                                  "Watch": "cyan", "Safe": "green"}
    assert tier_styles(["Top", "Rest"]) == {"Top": "bold red", "Rest": "green"}
    assert tier_styles([*TIERS, "Lapsed"], "Lapsed") == {
        "Critical": "bold red", "At risk": "yellow", "Watch": "cyan", "Safe": "green",
        "Lapsed": "bright_black"}
    lines = compact_top_lines(risk_list(), "en", "t", 80, tier_styles(TIERS))
    assert any(span.style == "bold red" for span in lines[3].spans)


@pytest.mark.parametrize("lang, tiers_line, value_line", [
    ("en", "Tiers: Critical 1 · At risk 1 · Watch 1 · Safe 1,200",
     "Total value at risk: 13,341"),
    ("nl", "Risiconiveaus: Kritiek 1 · Risico 1 · Opletten 1 · Veilig 1.200",
     "Totale omzet in gevaar: 13.341"),
])
def test_print_scoring_summarises_in_the_language_and_keeps_paths_whole(
        tmp_path, lang, tiers_line, value_line):
    parquet = tmp_path / "risk_list.parquet"
    risk_list().to_parquet(parquet)
    folder = tmp_path / ("a-rather-long-archive-folder-name-" * 3)
    result = {
        "risk_list_parquet": str(parquet), "as_of": "2024-06-30", "lang": lang,
        "tiers": {"Critical": 1, "At risk": 1, "Watch": 1, "Safe": 1200},
        "value_at_risk_total": 13340.6,
        "changes": {"previous_run": "2024-05-31/r1", "entered_top": ["C001"], "left_top": [],
                    "top_tiers": ["Critical", "At risk"], "critical_tier": "Critical",
                    "new_critical": ["C001"]},
        "risk_list_xlsx": str(folder / "risk_list.xlsx"),
        "risk_list_csv": str(folder / "risk_list.csv"), "report": str(folder / "report.html"),
    }
    out = Console(width=80, record=True, color_system=None)
    print_scoring(result, out)
    lines = out.export_text().splitlines()
    paths = [line for line in lines if str(folder) in line]
    assert len(paths) == 3 and paths[1].strip() == result["risk_list_csv"]
    assert paths[0].endswith(" " + result["risk_list_xlsx"])
    assert max(cell_len(line) for line in lines if line not in paths) <= 80
    assert tiers_line in lines and value_line in lines
    assert any(line.startswith(("New in Critical: C001", "Nieuw in Kritiek: C001"))
               for line in lines)


def test_the_chain_prints_the_monitoring_verdict_and_alerts():
    from pipelines.console import monitor_line

    assert monitor_line({"monitoring_run_id": "r", "drift": True,
                         "alerts": ["drift", "retrain_recommended"]}) == \
        "monitor drift; alerts: drift, retrain_recommended"
    assert monitor_line({"monitoring_run_id": "r", "drift": False, "alerts": []}) == \
        "monitor stable; alerts: none"
    assert monitor_line({"monitoring_run_id": None, "alerts": []}).startswith(
        "monitor not checked")
