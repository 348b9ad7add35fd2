"""Text cells that a spreadsheet would run as a formula, made inert (OWASP "CSV injection").

Every CSV a person opens in Excel holds cells that came from somebody's export (customer
names, ticket subjects, quarantined rows exactly as read): a cell starting with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading apostrophe, which spreadsheets show as
text and never evaluate.
"""

from __future__ import annotations

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: object) -> object:
    """A text cell that would start a formula gets a leading apostrophe; others pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def escaped_formulas(column: pd.Series) -> pd.Series:
    """`escape_formula` of every cell of a column, at once for text columns (a risk list of
    a million customers has sixteen million text cells)."""
    if pd.api.types.is_string_dtype(column) and column.dtype != object:
        starts = column.str.startswith(FORMULA_TRIGGERS).fillna(False).astype(bool)
        return column.mask(starts, "'" + column)
    return column.map(escape_formula)
