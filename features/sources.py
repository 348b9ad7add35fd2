"""The staged tables a feature build reads, as one typed bundle."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from features.contracts import STAGED_SCHEMAS


@dataclass(frozen=True)
class SourceTables:
    """Staged tables; only purchases are mandatory. A missing source removes its features."""

    purchases: pd.DataFrame
    complaints: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None

    def validated(self) -> SourceTables:
        """The same tables checked against their contracts (coerced dtypes, known columns)."""
        checked = {
            kind: None if frame is None else STAGED_SCHEMAS[kind].validate(frame)
            for kind, frame in self.as_dict().items()
        }
        return SourceTables(**checked)

    def as_dict(self) -> dict[str, pd.DataFrame | None]:
        return {
            "purchases": self.purchases,
            "complaints": self.complaints,
            "interactions": self.interactions,
            "customers": self.customers,
        }

    @property
    def available(self) -> tuple[str, ...]:
        return tuple(kind for kind, frame in self.as_dict().items() if frame is not None)

    def last_event_date(self) -> pd.Timestamp:
        """The calendar date (UTC) of the latest dated event in any source."""
        stamps = [self.purchases["order_date"].max()]
        if self.complaints is not None and len(self.complaints):
            stamps.append(self.complaints["opened_at"].max())
            stamps.append(self.complaints["resolved_at"].max())
        if self.interactions is not None and len(self.interactions):
            stamps.append(self.interactions["occurred_at"].max())
        stamps = [s for s in stamps if pd.notna(s)]
        if not stamps:
            raise ValueError("The staged data holds no dated events; ingest some purchases first.")
        return max(stamps).tz_convert("UTC").tz_localize(None).normalize()
