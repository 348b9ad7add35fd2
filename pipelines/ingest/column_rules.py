"""The column rules `stage_rows` decides from all values of a column (a date column's shape,
a number column's decimal separator), decided before a file is converted chunk by chunk.

`decided_rules` reads a file's raw chunks once, gathers per column what the rule is decided
from (`DateShapeStats`, `NumberStyleStats`: the same code the whole-column decision runs)
and returns the file's `ReadingRules` with every decision pinned, so each chunk is read by
the rule the whole file would get. A column that cannot be read by one rule fails here with
the sentence a whole-file read gives, in the order `stage_rows` would meet it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pandas as pd

from features.contracts import TIMESTAMP_COLUMNS
from pipelines.ingest.cells import (
    ColumnFormatError,
    DateShapeStats,
    NumberStyleStats,
    cell_text,
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


def decided_rules(kind: str, rules: ReadingRules, chunks: Iterable[pd.DataFrame]
                  ) -> ReadingRules:
    """`rules` with the date shape and number style of every column pinned, decided over
    all `chunks` (raw frames under canonical names, as `stage_rows` receives them)."""
    dates: dict[str, DateShapeStats] = {}
    numbers: dict[str, NumberStyleStats] = {}
    date_columns = [c for c in (*TIMESTAMP_COLUMNS[kind], UPDATED_AT)
                    if c not in rules.date_formats]
    for raw in chunks:
        for column in date_columns:
            if column in raw:
                dates.setdefault(column, DateShapeStats()).add(_text(raw[column]))
        for column in NUMBER_COLUMNS_BY_KIND.get(kind, ()):
            if column in raw:
                values = satisfaction_numbers(raw[column]) if column == "satisfaction" \
                    else raw[column]
                numbers.setdefault(column, NumberStyleStats()).add(_text(values))
    shapes = dict(rules.date_formats)
    for column, stats in dates.items():
        try:
            shape = stats.decide(rules.locale)
        except ColumnFormatError as error:
            raise StagingError(f"column {column}: {error}") from None
        if shape:
            shapes[column] = shape
    styles = {}
    for column, number_stats in numbers.items():
        try:
            styles[column] = number_stats.decide("en" if column == "satisfaction"
                                                 else rules.locale)
        except ColumnFormatError as error:
            if column == "satisfaction":  # not a column error in `stage_rows` either
                raise
            raise StagingError(f"column {column}: {error}") from None
    return replace(rules, date_formats=shapes, number_styles=styles)


def _text(values: pd.Series) -> pd.Series:
    """A column's distinct text cells, as the converters see them (CSV cells are never
    native; the rules depend on the set of values, and on their first appearance only)."""
    return pd.Series(pd.unique(cell_text(values).dropna()), dtype=object)
