"""The risk list as Excel-safe files: a UTF-8-with-BOM CSV and an .xlsx workbook.

Text cells that a spreadsheet could run as a formula (starting with = + - @, tab or CR:
customer names and reasons are user-controlled) are neutralised (OWASP "CSV injection"): in
the CSV by a leading apostrophe, in the workbook by storing them as text, never as formulas.
Dates are ISO in the CSV and locale-formatted in the workbook; tr/nl CSVs use `;` and a
decimal comma, as Excel expects under those settings.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
import xlsxwriter

from models.privacy import exported_contact_columns
from pipelines.deliver.charts import tier_colours
from pipelines.deliver.i18n import catalog, column_label, segment_label, tier_label
from pipelines.deliver.wording import RISK_LIST_COLUMNS
from pipelines.deliver.xlsx_rows import ColumnCells, sheet_rows_xml, splice_rows
from pipelines.store.safe_text import FORMULA_TRIGGERS, escaped_formulas

# What the team needs to log its work (README "Closing the loop"): the list's run id and a row
# id to name the row worked, the holdout flag (1: do not contact), and empty columns to fill
# in; a filled-in list dropped under raw/actions/ is read back as the team's action log.
LOOP_COLUMNS = ("list_run_id", "row_id", "holdout")
# Exported when the run computed them (`--sort saved_value`, `--contact-capacity`).
CONTACT_COLUMNS = ("expected_saved_value", "contact_this_week", "cooldown_until")
FILL_IN_COLUMNS = ("action_taken", "action_date", "action_outcome", "action_cost")
#: what a list owes to its place in the archive rather than to the data: its run and row ids
#: and the holdout arms, which earlier lists' draws carry until their windows end; a held-out
#: row's action says "do not contact" (`same_scored_list` leaves them aside)
RUN_COLUMNS = ("list_run_id", "row_id", "holdout", "assigned_in")
HOLDOUT_ACTION_COLUMNS = ("suggested_action", "action_key")
TEXT_COLUMNS = ("customer_id", "customer_name", "email", "phone", "segment", "master_segment",
                "owner",
                "risk_tier", "reason_1", "reason_2", "reason_3", "suggested_action",
                "model_version", "list_run_id", "row_id", "cooldown_until")
DATE_COLUMNS = ("last_purchase_date", "data_as_of")
WHOLE_NUMBERS = ("days_since_last_purchase", "usual_interval_days", "open_complaints")
FLAGS = ("holdout", "contact_this_week")
# Tier colours by position in the policy: first (most urgent) red ... default green,
# the lapsed tier grey (pipelines.deliver.charts.tier_colours).
TIER_FILLS = ("F8B4B4", "FBD38D", "FEF08A", "C6F6D5", "E2E8F0")
NUMBER_FORMATS = {
    "churn_probability": "0.0%", "value_at_risk": "#,##0", "annual_revenue": "#,##0",
    "lifetime_spend": "#,##0",
    "days_since_last_purchase": "0", "usual_interval_days": "0", "open_complaints": "0",
    "last_satisfaction": "0.0", "rank": "0", "holdout": "0",
    "expected_saved_value": "#,##0", "contact_this_week": "0",
}
WIDTHS = {"reason_1": 60, "reason_2": 50, "reason_3": 50, "suggested_action": 50,
          "customer_name": 26}


def localised_list(risk: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The export columns with tier and segment names in `lang` (reasons already are); e-mail
    and phone after the name when the run's setting lets the list show them; the expected
    saved value and contact flags when the run made them; the loop's columns last."""
    columns = list(RISK_LIST_COLUMNS)
    after_name = columns.index("customer_name") + 1
    columns[after_name:after_name] = exported_contact_columns(risk)
    contact = [c for c in CONTACT_COLUMNS if c in risk.columns]
    loop = [c for c in LOOP_COLUMNS if c in risk.columns]
    out = risk[[*columns, *contact, *loop]].copy()
    for column in WHOLE_NUMBERS:
        out[column] = out[column].round().astype("Int64")
    for column in FLAGS:
        if column in out:
            out[column] = out[column].astype(bool).astype("Int64")
    if loop:
        for column in FILL_IN_COLUMNS:
            out[column] = None
    out["churn_probability"] = out["churn_probability"].round(4)
    out["risk_tier"] = out["risk_tier"].map(lambda t: tier_label(t, lang))
    out["segment"] = out["segment"].map(lambda s: segment_label(s, lang))
    return out


def risk_list_csv_text(risk: pd.DataFrame, lang: str = "en", delimiter: str | None = None) -> str:
    """CSV text: headers in `lang` (snake_case names in English), ISO dates, IDs as text."""
    buffer = io.StringIO()
    write_risk_list_csv(risk, buffer, lang, delimiter)
    return buffer.getvalue()


def write_risk_list_csv(risk: pd.DataFrame, out: TextIO, lang: str = "en",
                        delimiter: str | None = None) -> None:
    """`risk_list_csv_text` written to `out` as pandas makes it, a block of rows at a time
    (933,762 customers' list is 270 MB of text, never held whole)."""
    number = catalog(lang).NUMBER
    delimiter = delimiter or number["csv_delimiter"]
    frame = localised_list(risk, lang)
    for column in DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")
    for column in (c for c in TEXT_COLUMNS if c in frame):  # e-mail, phone: when allowed
        frame[column] = escaped_formulas(frame[column])
    if lang != "en":
        frame.columns = [column_label(c, lang) for c in frame.columns]
    frame.to_csv(out, index=False, sep=delimiter, lineterminator="\r\n",
                 decimal=number["decimal"] if delimiter != number["decimal"] else ".")


EXCEL_ROWS = 1_048_576  # rows in an Excel worksheet, its header included


def risk_list_workbook(
    risk: pd.DataFrame, metadata_rows: list[tuple[str, Any]], tiers: list[str], lang: str,
    path: Path, lapsed: str | None = None, rows_per_sheet: int = EXCEL_ROWS - 1,
) -> Path:
    """The risk list sheet (frozen header, filters, formats, tier colours) and a metadata sheet.

    `tiers`: the policy's tier names in order; `lapsed`: its lapsed tier, if any (grey).
    A list longer than `rows_per_sheet` (what a sheet holds below its header) continues on
    further sheets, each with the header.
    Every cell is written by its type (text is never parsed as a formula or a link) and rows
    stream to the file in order, so tens of thousands of customers take seconds, not minutes.
    """
    words = catalog(lang).REPORT
    out = localised_list(risk, lang)
    header = [column_label(c, lang) for c in out.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False})
    style = _Styles(workbook)
    fills = {tier_label(name, lang): colour
             for name, colour in tier_colours(tiers, lapsed, TIER_FILLS).items()}
    writers = [_column_writer(column, _number_format(column, lang), style,
                              fills if column == "risk_tier" else {})
               for column in out.columns]
    # the rows between the header and the last are made by whole columns (`xlsx_rows`) where
    # every column holds one kind of value; a column of numbers and text mixed, cell by cell
    spliced = _spliced_cells(out, lang, style, fills)
    # Past Excel's row limit a sheet would lose rows without a word: the list continues on
    # sheets of its own ("Risk list 2", ...), in rank order, and the metadata says so.
    parts = max(1, -(-len(out) // rows_per_sheet))
    names = [words["risk_list"][:31]] if parts == 1 else [
        words["sheet_part"].format(name=words["risk_list"], part=part)[:31]
        for part in range(1, parts + 1)]
    splices = []
    for part, name in enumerate(names):
        first = part * rows_per_sheet
        chunk = out.iloc[first:first + rows_per_sheet]
        sheet = workbook.add_worksheet(name)
        for index, label in enumerate(header):
            sheet.write_string(0, index, label, style.of(bold=True))
            sheet.set_column(index, index,
                             WIDTHS.get(out.columns[index], max(12, len(label) + 2)))
        by_cell = chunk if spliced is None else chunk.iloc[-1:]
        if spliced is not None and len(chunk) > 1:
            splices.append((f"xl/worksheets/sheet{part + 1}.xml", chunk.iloc[:-1]))
        values = [_cell_values(by_cell[column], as_date=column in DATE_COLUMNS)
                  for column in out.columns]
        # row by row, as constant_memory streams each finished row to the file
        for at in range(len(by_cell)):
            row = len(chunk) - len(by_cell) + at + 1
            for index, (write, column_values) in enumerate(zip(writers, values, strict=True)):
                write(sheet, row, index, column_values[at])
        sheet.freeze_panes(1, 2)
        sheet.autofilter(0, 0, len(chunk), len(header) - 1)
    if parts > 1:
        metadata_rows = [(words["rows"], words["sheets_note"].format(
            rows=len(out), sheets=parts, first=names[0], last=names[-1],
            limit=rows_per_sheet)), *metadata_rows]
    meta = workbook.add_worksheet(words["metadata"][:31])
    meta.set_column(0, 0, 34)
    meta.set_column(1, 1, 90)
    meta.write_string(0, 0, words["field"], style.of(bold=True))
    meta.write_string(0, 1, words["value"], style.of(bold=True))
    wrapped = style.of(text_wrap=True, valign="top")
    for row, (field, value) in enumerate(metadata_rows, start=1):
        meta.write_string(row, 0, str(field))
        if isinstance(value, int | float) and not isinstance(value, bool):
            meta.write_number(row, 1, value, wrapped)
        else:
            meta.write_string(row, 1, str(value), wrapped)
    workbook.close()
    for part_name, rows in splices:  # only when `spliced` holds every column's cells
        splice_rows(path, part_name, sheet_rows_xml(rows, spliced or [], first_row=2))
    return path


def _spliced_cells(out: pd.DataFrame, lang: str, style: _Styles, fills: dict[str, str]
                   ) -> list[ColumnCells] | None:
    """Each column's `xlsx_rows.ColumnCells`, with the style indices the workbook gives the
    formats `_column_writer` uses; None when a column mixes numbers and text."""
    cells = []
    for column in out.columns:
        values = out[column]
        code = _number_format(column, lang)
        base: dict[str, Any] = {"num_format": code} if code else {}
        if column in DATE_COLUMNS:
            kind = "date"
        elif column in TEXT_COLUMNS or pd.api.types.is_string_dtype(values):
            kind = "text"
        elif pd.api.types.is_numeric_dtype(values) or values.isna().all():
            kind = "number"
        else:
            return None
        plain = style.index(**base) if base or kind == "date" else None
        cells.append(ColumnCells(
            kind=kind, plain=plain, blank=plain if base else None,
            quoted=style.index(**base, quote_prefix=True), triggers=FORMULA_TRIGGERS,
            fills={value: (style.index(**base, bg_color=f"#{fill}", pattern=1),
                           style.index(**base, bg_color=f"#{fill}", pattern=1,
                                       quote_prefix=True))
                   for value, fill in (fills.items() if column == "risk_tier" else ())}))
    return cells


class _Styles:
    """One xlsxwriter format per distinct set of properties (a workbook holds few)."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self._workbook = workbook
        self._made: dict[tuple[tuple[str, Any], ...], Any] = {}

    def of(self, **properties: Any):
        key = tuple(sorted(properties.items()))
        if key not in self._made:
            self._made[key] = self._workbook.add_format(dict(properties))
        return self._made[key]

    def index(self, **properties: Any) -> int:
        """The style number cells of these properties carry in the sheet's XML (the format
        is registered with the workbook now, as xlsxwriter does when it writes a cell)."""
        return self.of(**properties)._get_xf_index()


def _number_format(column: str, lang: str) -> str | None:
    if column in DATE_COLUMNS:
        return catalog(lang).NUMBER["excel_date"]
    if column == "customer_id":
        return "@"
    return NUMBER_FORMATS.get(column)


def _cell_values(column: pd.Series, *, as_date: bool) -> list[Any]:
    """The column's cells as Python values, None where empty (dates as datetimes)."""
    if as_date:
        return [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in column]
    return column.astype(object).where(column.notna(), None).tolist()


CellWriter = Callable[[Any, int, int, Any], None]


def _column_writer(column: str, code: str | None, style: _Styles,
                   fills: dict[str, str]) -> CellWriter:
    """How one column's cells are written: by type (text never parsed as a formula, numbers
    as numbers, dates as dates), the column's number format, and for the tier column its
    colour. Formats are looked up once per column, not per cell: a list of a million rows
    has tens of millions of cells."""
    base: dict[str, Any] = {"num_format": code} if code else {}
    plain = style.of(**base) if base else None
    quoted = style.of(**base, quote_prefix=True)  # stays text even after the user edits it
    filled = {value: (style.of(**base, bg_color=f"#{fill}", pattern=1),
                      style.of(**base, bg_color=f"#{fill}", pattern=1, quote_prefix=True))
              for value, fill in fills.items()}
    as_text = column in TEXT_COLUMNS

    def text(sheet, row: int, col: int, value: Any) -> None:
        value = value if type(value) is str else str(value)
        looks, quote = filled.get(value, (plain, quoted)) if filled else (plain, quoted)
        sheet.write_string(row, col, value, quote if value.startswith(FORMULA_TRIGGERS)
                           else looks)

    def cell(sheet, row: int, col: int, value: Any) -> None:
        if value is None:
            if plain is not None:
                sheet.write_blank(row, col, None, plain)
        elif as_text or isinstance(value, str):
            text(sheet, row, col, value)
        else:
            sheet.write_number(row, col, float(value), plain)

    if column in DATE_COLUMNS:
        dated = style.of(**base)

        def date(sheet, row: int, col: int, value: Any) -> None:
            if value is None:
                if plain is not None:
                    sheet.write_blank(row, col, None, plain)
            else:
                sheet.write_datetime(row, col, value, dated)
        return date
    return cell


def same_scored_list(first: pd.DataFrame, second: pd.DataFrame) -> bool:
    """Two risk lists (as `risk_list.parquet` holds them) say the same of the same data: equal
    columns, scores, tiers, reasons and ranks, and equal actions wherever neither holds the
    customer out. Run ids and holdout arms may differ: they come from the archive."""
    if list(first.columns) != list(second.columns) or len(first) != len(second):
        return False
    first, second = first.reset_index(drop=True), second.reset_index(drop=True)
    held = pd.Series(False, index=first.index)
    for frame in (first, second):
        if "holdout" in frame:
            held |= frame["holdout"].astype(bool)
    actions = [c for c in HOLDOUT_ACTION_COLUMNS if c in first]
    data = [c for c in first.columns if c not in (*RUN_COLUMNS, *actions)]
    return bool(first[data].equals(second[data])
                and first.loc[~held, actions].equals(second.loc[~held, actions]))
