"""Text cells that a spreadsheet would run as a formula, made inert (OWASP "CSV injection").

Every CSV a person opens in Excel holds cells that came from somebody's export (customer
names, ticket subjects, quarantined rows exactly as read): a cell starting with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading apostrophe, which spreadsheets show as
text and never evaluate.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: object) -> object:
    """A text cell that would start a formula gets a leading apostrophe; others pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
