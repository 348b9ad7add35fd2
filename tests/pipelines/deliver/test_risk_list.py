"""Excel safety of the risk list files: escaping, delimiters, text IDs, workbook layout."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from models.privacy import with_personal_columns
from pipelines.deliver.i18n import column_label
from pipelines.deliver.risk_list import risk_list_csv_text, risk_list_workbook
from pipelines.deliver.wording import RISK_LIST_COLUMNS
from pipelines.store.safe_text import escape_formula

EVIL = '=HYPERLINK("http://x","y")'


def tiny_risk_list() -> pd.DataFrame:
    rows = [
        {"customer_id": "00123", "customer_name": EVIL, "segment": "At risk",
         "risk_tier": "Critical", "churn_probability": 0.8125, "value_at_risk": 1234.5,
         "reason_1": "-5 days is not a formula", "reason_2": "@mention", "reason_3": "",
         "suggested_action": "Call today."},
        {"customer_id": "00456", "customer_name": "Şule Öztürk", "segment": "Champions",
         "risk_tier": "Safe", "churn_probability": 0.05, "value_at_risk": 10.0,
         "reason_1": "\tTabbed", "reason_2": "", "reason_3": "", "suggested_action": "+1 call"},
    ]
    frame = pd.DataFrame(rows)
    frame["rank"] = [1, 2]
    frame["master_segment"] = ["SMB", None]
    frame["owner"] = ["Deniz", None]
    frame["annual_revenue"] = [2000.0, 300.0]
    frame["lifetime_spend"] = [5200.0, 300.0]
    frame["last_purchase_date"] = pd.to_datetime(["2024-03-05", "2024-06-01"])
    frame["days_since_last_purchase"] = [90.0, 2.0]
    frame["usual_interval_days"] = [21.0, None]
    frame["open_complaints"] = [1.0, 0.0]
    frame["last_satisfaction"] = [2.0, None]
    frame["data_as_of"] = pd.Timestamp("2024-06-03")
    frame["model_version"] = "3"
    return frame[RISK_LIST_COLUMNS]


def test_escape_formula_prefixes_only_dangerous_text():
    assert escape_formula(EVIL) == "'" + EVIL
    for start in ("+", "-", "@", "\t", "\r"):
        assert escape_formula(start + "x") == "'" + start + "x"
    assert escape_formula("Ayşe") == "Ayşe" and escape_formula(-5.0) == -5.0


def test_english_csv_is_comma_separated_with_iso_dates_and_inert_cells():
    text = risk_list_csv_text(tiny_risk_list(), "en")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == RISK_LIST_COLUMNS
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["customer_id"] == "00123"
    assert first["customer_name"] == "'" + EVIL
    assert first["reason_1"] == "'-5 days is not a formula" and first["reason_2"] == "'@mention"
    assert first["last_purchase_date"] == "2024-03-05" and first["churn_probability"] == "0.8125"
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["reason_1"] == "'\tTabbed" and second["suggested_action"] == "'+1 call"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r"))
                   for row in rows[1:] for cell in row)


@pytest.mark.parametrize("lang, header, tier", [("tr", "Müşteri No", "Kritik"),
                                                ("nl", "Klantnummer", "Kritiek")])
def test_turkish_and_dutch_csv_use_semicolons_decimal_commas_and_translations(lang, header, tier):
    text = risk_list_csv_text(tiny_risk_list(), lang)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][1] == header
    assert rows[1][1] == "00123" and tier in rows[1]
    assert "0,8125" in rows[1] and "2024-03-05" in rows[1]
    overridden = list(csv.reader(io.StringIO(risk_list_csv_text(tiny_risk_list(), lang, ","))))
    assert "0.8125" in overridden[1]


def test_workbook_keeps_the_evil_name_as_text_and_formats_the_sheet(tmp_path):
    path = risk_list_workbook(tiny_risk_list(), [("Data as of", "2024-06-03"), ("Rows", 2)],
                              ["Critical", "At risk", "Watch", "Safe"], "en", tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere
    book = load_workbook(path)
    sheet = book["Risk list"]
    header = [c.value for c in sheet[1]]
    name = sheet.cell(row=2, column=header.index("Customer") + 1)
    assert name.value == EVIL and name.data_type == "s" and name.quotePrefix
    ident = sheet.cell(row=2, column=header.index("Customer ID") + 1)
    assert ident.value == "00123" and ident.number_format == "@"
    probability = sheet.cell(row=2, column=header.index("Churn probability") + 1)
    assert probability.value == pytest.approx(0.8125) and probability.number_format == "0.0%"
    tier = sheet.cell(row=2, column=header.index("Risk tier") + 1)
    assert tier.fill.fgColor.rgb.endswith("F8B4B4")
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref.startswith("A1:")
    meta = book["Run metadata"]
    assert [meta.cell(row=2, column=1).value, meta.cell(row=2, column=2).value] == [
        "Data as of", "2024-06-03"]


def test_turkish_workbook_formats_dates_the_turkish_way(tmp_path):
    path = risk_list_workbook(tiny_risk_list(), [], ["Critical", "At risk", "Watch", "Safe"],
                              "tr", tmp_path / "r.xlsx")
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    when = sheet.cell(row=2, column=header.index("Son Sipariş Tarihi") + 1)
    assert when.number_format == "dd.mm.yyyy"
    assert sheet.cell(row=2, column=header.index("Risk Seviyesi") + 1).value == "Kritik"


def test_the_lapsed_tier_is_grey_in_the_workbook(tmp_path):
    risk = tiny_risk_list()
    risk.loc[1, "risk_tier"] = "Lapsed"
    path = risk_list_workbook(risk, [], ["Critical", "At risk", "Watch", "Safe", "Lapsed"],
                              "nl", tmp_path / "r.xlsx", lapsed="Lapsed")
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    tiers = [sheet.cell(row=r, column=header.index("Risiconiveau") + 1) for r in (2, 3)]
    assert [t.value for t in tiers] == ["Kritiek", "Inactief"]
    assert tiers[0].fill.fgColor.rgb.endswith("F8B4B4")
    assert tiers[1].fill.fgColor.rgb.endswith("E2E8F0")


@pytest.mark.parametrize("lang", ["en", "nl", "tr"])
def test_a_list_longer_than_a_sheet_continues_on_more_sheets_and_says_so(tmp_path, lang):
    """Excel holds 1,048,576 rows a sheet; past that the list continues (here: 2 a sheet)."""
    base = tiny_risk_list()
    risk = pd.concat([base] * 3, ignore_index=True).head(5)
    risk["customer_id"] = [f"C{i}" for i in range(5)]
    risk["rank"] = range(1, 6)
    path = risk_list_workbook(risk, [("Rows", 5)], ["Critical", "At risk", "Watch", "Safe"],
                              lang, tmp_path / "r.xlsx", rows_per_sheet=2)
    book = load_workbook(path)
    parts = book.worksheets[:-1]
    assert len(parts) == 3 and [s.title[-1] for s in parts] == ["1", "2", "3"]
    ids = []
    for sheet in parts:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == next(book.worksheets[0].iter_rows(values_only=True))  # a header each
        assert sheet.freeze_panes == "C2"
        column = rows[0].index(column_label("customer_id", lang))
        ids += [row[column] for row in rows[1:]]
    assert ids == [f"C{i}" for i in range(5)]  # every customer once, in rank order
    note = book.worksheets[-1].cell(row=2, column=2).value
    assert "5" in note and "3" in note and parts[0].title in note and parts[-1].title in note


def test_a_list_that_fits_stays_on_one_sheet_without_a_note(tmp_path):
    path = risk_list_workbook(tiny_risk_list(), [("Rows", 2)], ["Critical", "Safe"], "en",
                              tmp_path / "r.xlsx", rows_per_sheet=2)
    book = load_workbook(path)
    assert book.sheetnames == ["Risk list", "Run metadata"]
    assert book["Run metadata"].cell(row=2, column=2).value == 2


CONTACTS = pd.DataFrame({"customer_id": ["00123"], "email": ["a@example.org"]})


def test_allowed_contact_details_reach_the_csv_after_the_name():
    risk = tiny_risk_list()
    master = pd.DataFrame({"customer_id": risk["customer_id"].astype(str),
                           "email": [f"c{i}@example.org" for i in range(len(risk))]})
    text = risk_list_csv_text(with_personal_columns(risk, master, ("name", "email")), "en")
    header = text.splitlines()[0].lstrip("\ufeff").split(",")
    assert header[header.index("customer_name") + 1] == "email"
    assert "phone" not in header and "c0@example.org" in text


def test_the_default_csv_has_no_contact_columns():
    text = risk_list_csv_text(with_personal_columns(tiny_risk_list(), CONTACTS, ()), "en")
    header = text.splitlines()[0].split(",")
    assert "email" not in header and "phone" not in header


def test_the_contact_flags_are_exported_when_the_run_made_them():
    plain = next(csv.reader(io.StringIO(risk_list_csv_text(tiny_risk_list(), "en"))))
    assert not {"expected_saved_value", "contact_this_week", "cooldown_until"} & set(plain)
    risk = tiny_risk_list().assign(expected_saved_value=[190.0, 0.0], contact_this_week=[1, 0],
                                   cooldown_until=["", "2024-06-20"])
    rows = list(csv.DictReader(io.StringIO(risk_list_csv_text(risk, "en"))))
    assert [r["contact_this_week"] for r in rows] == ["1", "0"]
    assert [r["cooldown_until"] for r in rows] == ["", "2024-06-20"]
    assert rows[0]["expected_saved_value"] == "190.0"
    dutch = next(csv.reader(io.StringIO(risk_list_csv_text(risk, "nl")), delimiter=";"))
    assert column_label("contact_this_week", "nl") in dutch


def test_two_lists_of_the_same_data_are_the_same_whatever_their_run_and_holdout():
    from pipelines.deliver.risk_list import same_scored_list

    first = tiny_risk_list().assign(list_run_id="R1", row_id=["R1-1", "R1-2"],
                                    holdout=[True, False], assigned_in="R1")
    second = first.assign(list_run_id="R2", row_id=["R2-1", "R2-2"], holdout=[False, False])
    second.loc[0, "suggested_action"] = "Holdout: do not contact"  # held out in the first
    assert same_scored_list(first, second)
    moved = second.copy()
    moved.loc[1, "churn_probability"] = 0.06
    assert not same_scored_list(first, moved)
    acted = second.copy()
    acted.loc[1, "suggested_action"] = "Call today."  # nobody holds this one out
    assert not same_scored_list(first, acted)
    assert not same_scored_list(first, second.drop(columns="row_id"))
