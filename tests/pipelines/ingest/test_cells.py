"""Locale-aware numbers and dates: one rule per column, clear errors on mixtures."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.ingest.cells import ColumnFormatError, cell_text, parse_numbers, parse_timestamps


def cells(*values) -> pd.Series:
    return pd.Series(list(values), dtype=object)


@pytest.mark.parametrize("values, locale, expected", [
    (("1.234,56", "-₺1.234,50", "-1.234,50 TL", "12,5"), "en", [1234.56, -1234.5, -1234.5, 12.5]),
    (("€ -1.234,50", "€\u00a01.000,00"), "nl", [-1234.5, 1000.0]),
    (("(1,234.50)", "-$1,234.50", "1,234.50", "1 234.50"), "tr", [-1234.5, -1234.5, 1234.5,
                                                                   1234.5]),
    (("1.234", "5"), "tr", [1234.0, 5.0]),  # ambiguous column: the file's locale decides
    (("1.234", "5"), "en", [1.234, 5.0]),
    (("1,234", "2,5"), "en", [1.234, 2.5]),  # `2,5` settles the column as decimal-comma
])
def test_numbers_per_locale(values, locale, expected):
    parsed, bad = parse_numbers(cells(*values), locale)
    assert parsed.tolist() == pytest.approx(expected) and not bad.any()


def test_text_in_a_number_column_is_a_row_problem_and_natives_pass_through():
    parsed, bad = parse_numbers(cells("ten", "", None, 7.25, "1.2.3"), "en")
    assert bad.tolist() == [True, False, False, False, True]
    assert parsed.iloc[3] == 7.25


def test_mixed_decimal_styles_are_a_column_error():
    with pytest.raises(ColumnFormatError, match="'1.234,5' and '9.99'"):
        parse_numbers(cells("1.234,5", "9.99"), "tr")


@pytest.mark.parametrize("values, locale, shape, first", [
    (("5.03.2024", "31.12.2024 14:05"), "en", "dd.MM.yyyy", "2024-03-05"),
    (("31-12-2024",), "en", "dd-MM-yyyy", "2024-12-31"),
    (("01/02/2024", "03/04/2024"), "nl", "dd/MM/yyyy", "2024-02-01"),
    (("01/02/2024", "03/04/2024"), "en", "MM/dd/yyyy", "2024-01-02"),
    (("01/02/2024", "13/04/2024"), "en", "dd/MM/yyyy", "2024-02-01"),  # 13 settles it
    (("3/15/2024 2:05 PM",), "tr", "MM/dd/yyyy", "2024-03-15 14:05"),
    (("2024-03-05T10:00:00.5Z",), "en", "ISO", "2024-03-05 10:00:00.5"),
])
def test_one_date_shape_per_column(values, locale, shape, first):
    parsed, bad, detected = parse_timestamps(cells(*values), locale, "UTC")
    assert detected == shape and not bad.any()
    assert parsed.iloc[0] == pd.Timestamp(first, tz="UTC")


def test_offsets_are_honoured_and_naive_times_read_in_the_zone():
    parsed, _, _ = parse_timestamps(
        cells("2025-10-07 09:50:26 +0200", "2025-10-07 09:50:26", "2025-10-07T09:50:26-05:30"),
        "en", "Europe/Istanbul")
    assert parsed.tolist() == [pd.Timestamp("2025-10-07 07:50:26", tz="UTC"),
                               pd.Timestamp("2025-10-07 06:50:26", tz="UTC"),
                               pd.Timestamp("2025-10-07 15:20:26", tz="UTC")]


def test_dst_gaps_and_repeats_are_refused_not_guessed():
    _, bad, _ = parse_timestamps(cells("2024-03-31 02:30", "2024-10-27 02:30", "2024-10-27 04:00"),
                                 "nl", "Europe/Amsterdam")
    assert bad.tolist() == [True, True, False]


def test_excel_serials_only_when_asked_and_native_datetimes_are_local():
    values = cells(45000, dt.datetime(2024, 3, 5, 14, 30))
    parsed, bad, _ = parse_timestamps(values, "tr", "Europe/Istanbul", serials=True)
    assert parsed.tolist() == [pd.Timestamp("2023-03-14 21:00", tz="UTC"),
                               pd.Timestamp("2024-03-05 11:30", tz="UTC")]
    _, bad, _ = parse_timestamps(values, "tr", "Europe/Istanbul", serials=False)
    assert bad.tolist() == [True, False]


def test_mixed_and_unreadable_date_columns_are_errors_with_examples():
    with pytest.raises(ColumnFormatError, match=r"ISO: '2024-03-05'; dd.MM.yyyy: '05.03.2024'"):
        parse_timestamps(cells("2024-03-05", "05.03.2024"), "tr", "UTC")
    with pytest.raises(ColumnFormatError, match="no recognisable dates"):
        parse_timestamps(cells("yesterday", "today"), "en", "UTC")


def test_a_pinned_format_wins_over_detection():
    parsed, _, shape = parse_timestamps(cells("01/02/2024"), "nl", "UTC", pinned="MM/dd/yyyy")
    assert shape == "MM/dd/yyyy" and parsed.iloc[0] == pd.Timestamp("2024-01-02", tz="UTC")


def test_a_bare_iso_date_is_local_not_an_offset_of_minus_its_day():
    parsed, _, _ = parse_timestamps(cells("2024-01-05", "2024-01-06T23:30:00+03:00"), "en",
                                    "Europe/Istanbul")
    assert parsed.tolist() == [pd.Timestamp("2024-01-04 21:00", tz="UTC"),
                               pd.Timestamp("2024-01-06 20:30", tz="UTC")]


def test_repeated_cells_are_converted_once_with_blanks_kept_apart():
    values = pd.Series(["5", None, "5", " 5 ", "x", "x", None, ""], dtype=object, name="amount")
    parsed, bad = parse_numbers(values, "en")
    assert parsed.name == "amount" and parsed.index.equals(values.index)
    assert parsed.fillna(-1).tolist() == [5.0, -1, 5.0, 5.0, -1, -1, -1, -1]
    assert bad.tolist() == [False, False, False, False, True, True, False, False]
    assert cell_text(values).tolist() == ["5", None, "5", "5", "x", "x", None, None]


@pytest.mark.parametrize("odd_one, expected_odd", [
    ("05.03.2024 14:30:00", pd.Timestamp("2024-03-05 11:30", tz="UTC")),  # all fixed-width
    ("5.3.2024 14:30:00", pd.Timestamp("2024-03-05 11:30", tz="UTC")),  # regex path
    ("30.02.2024 10:00:00", pd.NaT),  # not a date: the regex path flags it
])
def test_fixed_width_and_regex_date_paths_agree(odd_one, expected_odd):
    values = cells("01.11.2024 04:16:29", odd_one, "01.11.2024 04:16:29", None)
    parsed, bad, shape = parse_timestamps(values, "tr", "Europe/Istanbul")
    assert shape == "dd.MM.yyyy"
    assert parsed[0] == parsed[2] == pd.Timestamp("2024-11-01 01:16:29", tz="UTC")
    assert parsed[1] == expected_odd if not pd.isna(expected_odd) else pd.isna(parsed[1])
    assert bad.tolist() == [False, pd.isna(expected_odd), False, False]


def test_fixed_width_dates_in_a_dst_gap_are_unparseable():
    values = cells("31.03.2024 02:30", "30.03.2024 02:30")
    parsed, bad, _ = parse_timestamps(values, "nl", "Europe/Amsterdam")
    assert pd.isna(parsed[0]) and parsed[1] == pd.Timestamp("2024-03-30 01:30", tz="UTC")
    assert bad.tolist() == [True, False]
