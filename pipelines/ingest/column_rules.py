"""The column rules `stage_rows` decides from all values of a column (a date column's shape,
a number column's decimal separator), decided before a file is converted chunk by chunk.

`ColumnRules` is given a file's raw chunks once and gathers per column what the rule is decided
from (`DateShapeStats`, `NumberStyleStats`: the same code the whole-column decision runs)
and returns the file's `ReadingRules` with every decision pinned, so each chunk is read by
the rule the whole file would get. A column that cannot be read by one rule fails here with
the sentence a whole-file read gives, in the order `stage_rows` would meet it.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from features.contracts import TIMESTAMP_COLUMNS
from pipelines.ingest.cells import (
    ColumnFormatError,
    DateShapeStats,
    NumberStyleStats,
    cell_text,
    native_cells,
)
from pipelines.ingest.staging import (
    UPDATED_AT,
    ReadingRules,
    StagingError,
    satisfaction_numbers,
)
from pipelines.ingest.subscription_rows import NUMBER_COLUMNS

#: kind -> its number columns whose decimal separator `stage_rows` decides, in its order
NUMBER_COLUMNS_BY_KIND = {"purchases": ("amount", "quantity"), "subscriptions": NUMBER_COLUMNS,
                          "complaints": ("satisfaction",)}


class ColumnRules:
    """Gathers, chunk by chunk (`add`), what one file's column rules are decided from;
    `decided` gives the file's `ReadingRules` with every decision pinned."""

    def __init__(self, kind: str, rules: ReadingRules):
        self.kind, self.rules = kind, rules
        self.dates: dict[str, DateShapeStats] = {}
        self.numbers: dict[str, NumberStyleStats] = {}
        self.date_columns = [c for c in (*TIMESTAMP_COLUMNS[kind], UPDATED_AT)
                             if c not in rules.date_formats]

    def add(self, raw: pd.DataFrame) -> None:
        """One chunk's raw frame (canonical names, as `stage_rows` receives it)."""
        for column in self.date_columns:
            if column in raw:
                self.dates.setdefault(column, DateShapeStats()).add(_text(raw[column]))
        for column in NUMBER_COLUMNS_BY_KIND.get(self.kind, ()):
            if column in raw:
                values = satisfaction_numbers(raw[column]) if column == "satisfaction" \
                    else raw[column]
                self.numbers.setdefault(column, NumberStyleStats()).add(_text(values))

    def decided(self) -> ReadingRules:
        shapes = dict(self.rules.date_formats)
        for column, stats in self.dates.items():
            try:
                shape = stats.decide(self.rules.locale)
            except ColumnFormatError as error:
                raise StagingError(f"column {column}: {error}") from None
            if shape:
                shapes[column] = shape
        styles = {}
        for column, number_stats in self.numbers.items():
            try:
                styles[column] = number_stats.decide("en" if column == "satisfaction"
                                                     else self.rules.locale)
            except ColumnFormatError as error:
                if column == "satisfaction":  # not a column error in `stage_rows` either
                    raise
                raise StagingError(f"column {column}: {error}") from None
        return replace(self.rules, date_formats=shapes, number_styles=styles)


def _text(values: pd.Series) -> pd.Series:
    """A column's distinct text cells, as the converters see them (native cells of a
    parquet file are converted apart and decide nothing; the rules depend on the set of
    values, and on their first appearance only)."""
    return pd.Series(pd.unique(cell_text(values.where(~native_cells(values), None)).dropna()),
                     dtype=object)
