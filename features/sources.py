"""The staged tables a feature build reads, as one typed bundle."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from features.contracts import STAGED_SCHEMAS

# The timestamps that date an event, per source: the data ends on the latest of them.
EVENT_TIMESTAMPS: dict[str, tuple[str, ...]] = {
    "purchases": ("order_date",),
    "complaints": ("opened_at", "resolved_at"),
    "interactions": ("occurred_at",),
    "subscriptions": ("started_at",),
}


@dataclass(frozen=True)
class SourceTables:
    """Staged tables; only purchases are mandatory. A missing source removes its features."""

    purchases: pd.DataFrame
    complaints: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    subscriptions: pd.DataFrame | None = None
    # True once the tables passed their contracts: a bundle is checked once where it is
    # loaded, not again by every function it travels through.
    checked: bool = field(default=False, compare=False, repr=False)

    def validated(self) -> SourceTables:
        """The tables checked against their contracts (coerced dtypes, known columns); the
        same bundle when it already was."""
        if self.checked:
            return self
        checked = {
            kind: None if frame is None else STAGED_SCHEMAS[kind].validate(frame)
            for kind, frame in self.as_dict().items()
        }
        return SourceTables(**checked, checked=True)

    def as_dict(self) -> dict[str, pd.DataFrame | None]:
        return {
            "purchases": self.purchases,
            "complaints": self.complaints,
            "interactions": self.interactions,
            "customers": self.customers,
            "subscriptions": self.subscriptions,
        }

    @property
    def available(self) -> tuple[str, ...]:
        return tuple(kind for kind, frame in self.as_dict().items() if frame is not None)

    def last_event_date(self) -> pd.Timestamp:
        """The calendar date (UTC) of the latest dated event in any source.

        Reads only the `EVENT_TIMESTAMPS` columns, so a bundle of just those answers too.
        """
        stamps = []
        for kind, frame in self.as_dict().items():
            if frame is not None and len(frame):
                stamps += [frame[column].max() for column in EVENT_TIMESTAMPS.get(kind, ())]
        stamps = [s for s in stamps if pd.notna(s)]
        if not stamps:
            raise ValueError("The staged data holds no dated events; ingest some purchases first.")
        return max(stamps).tz_convert("UTC").tz_localize(None).normalize()
