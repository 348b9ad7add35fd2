"""The risk list as Excel-safe files: a UTF-8-with-BOM CSV and an .xlsx workbook.

Text cells that a spreadsheet could run as a formula (starting with = + - @, tab or CR:
customer names and reasons are user-controlled) are neutralised (OWASP "CSV injection"): in
the CSV by a leading apostrophe, in the workbook by storing them as text, never as formulas.
Dates are ISO in the CSV and locale-formatted in the workbook; tr/nl CSVs use `;` and a
decimal comma, as Excel expects under those settings.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from models.i18n import catalog, column_label, segment_label, tier_label
from models.score import RISK_LIST_COLUMNS
from pipelines.charts import tier_colours

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("customer_id", "customer_name", "segment", "master_segment", "owner",
                "risk_tier", "reason_1", "reason_2", "reason_3", "suggested_action",
                "model_version")
DATE_COLUMNS = ("last_purchase_date", "data_as_of")
WHOLE_NUMBERS = ("days_since_last_purchase", "usual_interval_days", "open_complaints")
# Tier colours by position in the policy: first (most urgent) red ... default green,
# the lapsed tier grey (pipelines.charts.tier_colours).
TIER_FILLS = ("F8B4B4", "FBD38D", "FEF08A", "C6F6D5", "E2E8F0")
NUMBER_FORMATS = {
    "churn_probability": "0.0%", "value_at_risk": "#,##0", "annual_revenue": "#,##0",
    "days_since_last_purchase": "0", "usual_interval_days": "0", "open_complaints": "0",
    "last_satisfaction": "0.0", "rank": "0",
}
WIDTHS = {"reason_1": 60, "reason_2": 50, "reason_3": 50, "suggested_action": 50,
          "customer_name": 26}


def escape_formula(value: object) -> object:
    """A text cell that would start a formula gets a leading apostrophe; others pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def localized_list(risk: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The export columns with tier and segment names in `lang` (reasons already are)."""
    out = risk[RISK_LIST_COLUMNS].copy()
    for column in WHOLE_NUMBERS:
        out[column] = out[column].round().astype("Int64")
    out["churn_probability"] = out["churn_probability"].round(4)
    out["risk_tier"] = out["risk_tier"].map(lambda t: tier_label(t, lang))
    out["segment"] = out["segment"].map(lambda s: segment_label(s, lang))
    return out


def risk_list_csv_text(risk: pd.DataFrame, lang: str = "en", delimiter: str | None = None) -> str:
    """CSV text: headers in `lang` (snake_case names in English), ISO dates, IDs as text."""
    number = catalog(lang).NUMBER
    delimiter = delimiter or number["csv_delimiter"]
    out = localized_list(risk, lang)
    for column in DATE_COLUMNS:
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    for column in TEXT_COLUMNS:
        out[column] = out[column].map(escape_formula)
    if lang != "en":
        out.columns = [column_label(c, lang) for c in out.columns]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, sep=delimiter, lineterminator="\r\n",
               decimal=number["decimal"] if delimiter != number["decimal"] else ".")
    return buffer.getvalue()


def _write_sheet_rows(sheet, header: list[str], rows: list[list[Any]]) -> None:
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def _as_text_cells(sheet, column_index: int, values: list[Any]) -> None:
    """Store strings as text cells: openpyxl would turn a leading '=' into a formula."""
    for offset, value in enumerate(values, start=2):
        cell = sheet.cell(row=offset, column=column_index)
        if isinstance(value, str):
            cell.value = value
            cell.data_type = "s"
            if value.startswith(FORMULA_TRIGGERS):
                cell.quotePrefix = True  # stays text even after the user edits it


def risk_list_workbook(
    risk: pd.DataFrame, metadata_rows: list[tuple[str, Any]], tiers: list[str], lang: str,
    path: Path, lapsed: str | None = None,
) -> Path:
    """The risk list sheet (frozen header, filters, formats, tier colours) and a metadata sheet.

    `tiers`: the policy's tier names in order; `lapsed`: its lapsed tier, if any (grey).
    """
    number = catalog(lang).NUMBER
    out = localized_list(risk, lang)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = catalog(lang).REPORT["risk_list"][:31]
    header = [column_label(c, lang) for c in out.columns]
    body = out.astype(object).where(out.notna(), None)
    rows = []
    for record in body.itertuples(index=False):
        row = []
        for column, value in zip(out.columns, record, strict=True):
            if column in DATE_COLUMNS and value is not None:
                value = pd.Timestamp(value).to_pydatetime()
            row.append(value)
        rows.append(row)
    # Append placeholders first, then set text cells explicitly (no formula parsing).
    safe_rows = [[None if isinstance(v, str) else v for v in row] for row in rows]
    _write_sheet_rows(sheet, header, safe_rows)
    for index, column in enumerate(out.columns, start=1):
        letter = get_column_letter(index)
        if column in TEXT_COLUMNS or out[column].dtype == object or str(out[column].dtype) == "str":
            _as_text_cells(sheet, index, [row[index - 1] for row in rows])
        fmt = NUMBER_FORMATS.get(column)
        if column in DATE_COLUMNS:
            fmt = number["excel_date"]
        if column == "customer_id":
            fmt = "@"
        if fmt:
            for cell in sheet[letter][1:]:
                cell.number_format = fmt
        width = WIDTHS.get(column, max(12, len(header[index - 1]) + 2))
        sheet.column_dimensions[letter].width = width
    tier_col = list(out.columns).index("risk_tier") + 1
    fills = {tier_label(name, lang): PatternFill("solid", fgColor=colour)
             for name, colour in tier_colours(tiers, lapsed, TIER_FILLS).items()}
    for cell in sheet[get_column_letter(tier_col)][1:]:
        if cell.value in fills:
            cell.fill = fills[cell.value]
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    meta = workbook.create_sheet(catalog(lang).REPORT["metadata"][:31])
    meta.append([catalog(lang).REPORT["field"], catalog(lang).REPORT["value"]])
    for cell in meta[1]:
        cell.font = Font(bold=True)
    for index, (field, value) in enumerate(metadata_rows, start=2):
        meta.cell(row=index, column=1, value=str(field)).data_type = "s"
        text = value if isinstance(value, int | float) else str(value)
        cell = meta.cell(row=index, column=2)
        cell.value = text
        if isinstance(text, str):
            cell.data_type = "s"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    meta.column_dimensions["A"].width = 34
    meta.column_dimensions["B"].width = 90
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
