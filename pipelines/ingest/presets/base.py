"""What a preset is and the column helpers every preset uses.

A preset recognises one system's export from its headers and turns its rows into canonical
columns (cells still as delivered, except values it had to compute) plus `_source_line`,
`_reason` for rows it sets aside and `_updated_at` where the source has a last-modified time.
Export-time "current state" columns never become a point-in-time fact; each family module
says which columns those are for its systems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique
from pipelines.ingest.headers import fold_header, split_header
from pipelines.ingest.staging import SOURCE_LINE, StagingError


@dataclass(frozen=True)
class PresetResult:
    frame: pd.DataFrame  # canonical columns + bookkeeping
    merged: int = 0  # input rows folded into another row (line items of one order)
    mapping: dict[str, str] = field(default_factory=dict)  # header -> canonical, for --explain
    # whose numbers `customer_id` holds: "" the business's own customer number (shared by
    # every file), else the system's (`zendesk`, `hubspot`): equal numbers of two systems are
    # different customers; `email` / `phone` columns and `_id:<space>` columns link them
    id_space: str = ""


@dataclass(frozen=True)
class Preset:
    """One system's export. It is recognised when the file carries every `signature` entry
    and at least `min_optional` of the `optional` ones (export views differ per account and
    plan, so a sufficient subset is enough). Entries are folded headers; `a|b` accepts either
    spelling. Headers count both whole and without their units/notes (`Total (EUR)`)."""

    name: str
    kind: str
    signature: frozenset[str]  # folded headers that must all be present (`a|b`: either)
    locale: str | None
    convert: Callable[[pd.DataFrame, list[int], str], PresetResult]
    optional: frozenset[str] = frozenset()  # folded headers of which `min_optional` suffice
    min_optional: int = 0

    def matches(self, folded: set[str]) -> bool:
        def present(entry: str) -> bool:
            return any(option in folded for option in entry.split("|"))
        return (all(present(e) for e in self.signature)
                and sum(present(e) for e in self.optional) >= self.min_optional)

    def headers(self) -> set[str]:
        """Every folded spelling the signature names (for header-row detection)."""
        return {o for e in self.signature | self.optional for o in e.split("|")}


def find_column(frame: pd.DataFrame, *names: str, startswith: str | None = None) -> str | None:
    """The first header of `frame` whose folded form is one of `names` (or starts with); a
    header matches whole first, then without its units/notes (`Created at (UTC)`)."""
    folded = {fold_header(h): h for h in frame.columns}
    for name in names:
        if fold_header(name) in folded:
            return folded[fold_header(name)]
    cores: dict[str, str] = {}
    for header in frame.columns:
        cores.setdefault(fold_header(split_header(str(header))[0]), header)
    for name in names:
        if fold_header(name) in cores:
            return cores[fold_header(name)]
    if startswith:
        return next((h for f, h in folded.items() if f.startswith(startswith)), None)
    return None


def whole_column(frame: pd.DataFrame, *names: str) -> str | None:
    """The header whose *whole* folded form is the first of `names` present, for exports whose
    labels differ only by their notes, where `find_column`'s fallback to a header's core would
    mistake `Order Total Amount (- Refund)` for `Order Total Amount`, `Bedrag excl. btw` for
    `Bedrag`."""
    folded = {fold_header(str(h)): h for h in frame.columns}
    return next((folded[fold_header(n)] for n in names if fold_header(n) in folded), None)


def require_column(frame: pd.DataFrame, *names: str, preset: str, why: str = "") -> str:
    """`find_column` for a column the preset cannot do without. Its signature guarantees the
    column when the preset was detected, not when `sources.yaml` names the preset."""
    column = find_column(frame, *names)
    if column is None:
        raise StagingError(f"no {' / '.join(names)} column, which the {preset} preset needs"
                           f"{why}; rename that header, or set `preset: none` and map the "
                           "columns under `columns` in sources.yaml")
    return column


def pick_columns(frame: pd.DataFrame, lines: list[int],
                 wanted: dict[str, str | None]) -> PresetResult:
    """Canonical frame from a source header per canonical column (None: leave it out)."""
    out = pd.DataFrame({target: frame[source] for target, source in wanted.items() if source},
                       index=frame.index)
    out[SOURCE_LINE] = lines
    return PresetResult(out, 0, {s: t for t, s in wanted.items() if s})


def translated_words(values: pd.Series, words: Mapping[str, str | None]) -> pd.Series:
    """Known words replaced (by folded spelling), anything else kept for staging to judge."""
    return map_unique(cell_text(values),
                      lambda v: words.get(fold_header(v), v) if isinstance(v, str) else None)


#: How many digits an epoch time has in each unit (2001-09-09 to 2286: 10 digits in seconds).
EPOCH_DIGITS = {"s": r"\d{9,10}", "ms": r"\d{12,13}"}


def epoch_or_text(values: pd.Series, unit: str) -> pd.Series:
    """Cells that are epoch times in `unit` ("s": Stripe's `1714557600`; "ms": HubSpot's
    `1717405200000`) as ISO UTC text, so the date parser reads them as any other date; every
    other cell as it is."""
    text = cell_text(values)
    epoch = text.str.fullmatch(EPOCH_DIGITS[unit]).fillna(False).astype(bool)
    out = text.astype(object)
    out[epoch] = pd.to_datetime(text[epoch].astype("int64"), unit=unit, utc=True).map(
        lambda t: t.isoformat())
    return out

