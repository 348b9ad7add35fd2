"""The risk-list workbook's rows made by whole columns (`xlsx_rows`) are the cells xlsxwriter
writes one by one: the same text, numbers, dates, formats, fills and formula guards."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.deliver import risk_list
from pipelines.deliver.i18n import column_label
from pipelines.deliver.risk_list import risk_list_workbook
from tests.pipelines.deliver.test_risk_list import tiny_risk_list

TIERS = ["Critical", "At risk", "Watch", "Safe"]
tricky = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab <>&\"'=+-@\t\r\n_x0041\x00\x01\x1f\u00a0şç")),
            max_size=12),
    st.sampled_from(["_x0041_", "=SUM(A1)", " lead", "trail ", "\ttab", "a&b<c>", "\ufffe"]))
# within Excel's range (it holds no number past 9.99e307)
numbers = st.one_of(st.none(), st.just(float("nan")), st.floats(-1e300, 1e300),
                    st.integers(-10**6, 10**6).map(float))


def _by_cell(monkeypatch) -> None:
    monkeypatch.setattr(risk_list, "_spliced_cells", lambda *args: None)


def _cells(path: Path) -> tuple[list, np.ndarray]:
    """Every cell's value, format, fill, guard and type; numbers apart, to be compared to
    the 16 digits xlsxwriter writes (`%.16G`; Arrow writes the shortest exact repr)."""
    book = openpyxl.load_workbook(path)
    cells, values = [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                number = isinstance(c.value, int | float) and not isinstance(c.value, bool)
                values += [float(c.value)] if number else []
                cells.append(("#" if number else c.value, c.number_format, c.fill.fgColor.rgb,
                              c.quotePrefix, c.data_type))
    return cells, np.array(values)


def _sheet_xml(path: Path) -> tuple[list[str], np.ndarray]:
    """Each sheet's XML without style numbers (they follow the order formats were made in),
    its numbers apart."""
    with zipfile.ZipFile(path) as package:
        names = sorted(n for n in package.namelist() if n.startswith("xl/worksheets/"))
        texts = [re.sub(r' s="\d+"', "", package.read(n).decode()) for n in names]
    values = [float(v) for text in texts for v in re.findall(r"<v>([^<]*)</v>", text)]
    return [re.sub(r"<v>[^<]*</v>", "<v>#</v>", text) for text in texts], np.array(values)


def _same(first: tuple, second: tuple) -> bool:
    return first[0] == second[0] and np.allclose(first[1], second[1], rtol=1e-15, atol=0)


def _both_ways(risk: pd.DataFrame, tmp: Path, monkeypatch, **options) -> tuple[Path, Path]:
    fast = risk_list_workbook(risk, [("Rows", len(risk))], TIERS, "en", tmp / "fast.xlsx",
                              **options)
    with monkeypatch.context() as patch:
        _by_cell(patch)
        slow = risk_list_workbook(risk, [("Rows", len(risk))], TIERS, "en", tmp / "slow.xlsx",
                                  **options)
    return fast, slow


def _risk(texts: list, values: list, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(texts)
    risk = tiny_risk_list().iloc[np.arange(n) % 2].reset_index(drop=True)
    risk["customer_name"] = texts
    risk["reason_1"] = list(reversed(texts))
    risk["customer_id"] = [f"C{i}" if t is None else t for i, t in enumerate(texts)]
    risk["value_at_risk"] = values
    risk["risk_tier"] = rng.choice([*TIERS, "Lapsed"], n)
    risk["last_purchase_date"] = pd.to_datetime(
        rng.choice(["2024-03-05", "1900-01-15", "2031-12-31", None], n))
    return risk


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_column_rows_equal_the_cells_xlsxwriter_writes(data, tmp_path, monkeypatch):
    n = data.draw(st.integers(2, 9))
    texts = data.draw(st.lists(tricky, min_size=n, max_size=n))
    values = data.draw(st.lists(numbers, min_size=n, max_size=n))
    risk = _risk(texts, values, data.draw(st.integers(0, 99)))
    per_sheet = data.draw(st.sampled_from([3, 1_048_575]))
    fast, slow = _both_ways(risk, tmp_path, monkeypatch, rows_per_sheet=per_sheet)
    assert _same(_sheet_xml(fast), _sheet_xml(slow))
    assert _same(_cells(fast), _cells(slow))


def test_a_list_across_sheets_keeps_every_row_in_order(tmp_path, monkeypatch):
    risk = _risk([f"name {i}" for i in range(11)], [float(i) for i in range(11)], 0)
    fast, slow = _both_ways(risk, tmp_path, monkeypatch, rows_per_sheet=4)
    book = openpyxl.load_workbook(fast)
    names = [row[2].value for sheet in book.worksheets[:3] for row in sheet.iter_rows(min_row=2)]
    assert names == [f"name {i}" for i in range(11)]
    assert _same(_cells(fast), _cells(slow))


def test_a_column_of_numbers_and_text_is_written_cell_by_cell(tmp_path):
    risk = tiny_risk_list()
    risk["last_satisfaction"] = pd.Series([4.0, "n/a"], dtype=object)
    path = risk_list_workbook(risk, [], TIERS, "en", tmp_path / "mixed.xlsx")
    rows = list(openpyxl.load_workbook(path).worksheets[0].values)
    at = rows[0].index(column_label("last_satisfaction", "en"))
    assert [row[at] for row in rows[1:]] == [4.0, "n/a"]


@pytest.mark.parametrize("rows", [0, 1, 2])
def test_lists_of_no_one_or_two_rows(rows, tmp_path, monkeypatch):
    risk = _risk([f"n{i}" for i in range(rows)], [1.5] * rows, 1)
    fast, slow = _both_ways(risk, tmp_path, monkeypatch)
    assert _same(_sheet_xml(fast), _sheet_xml(slow)) and _same(_cells(fast), _cells(slow))
