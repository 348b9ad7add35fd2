"""Which currency the amounts are in: stated by the user, else read from the export headers."""

from __future__ import annotations

import json

from pipelines.store.settings import Settings


def data_currency(settings: Settings) -> str | None:
    """`$CHURN_CURRENCY` when set; else the one currency the purchase files' amount headers
    named (`Tutar (TL)` -> TL, as the last ingest recorded it); else None (unknown: say
    "in the data's currency")."""
    if settings.currency:
        return settings.currency
    path = settings.reports_dir / "ingest_report.json"
    try:
        readings = json.loads(path.read_text(encoding="utf-8")).get("readings", [])
    except (OSError, ValueError):
        return None
    found = set()
    for reading in readings:
        if reading.get("kind") != "purchases":
            continue
        headers = [h for h, column in reading.get("columns", {}).items() if column == "amount"]
        for header in headers:
            for note in reading.get("notes", {}).get(header, []):
                if isinstance(note, str) and note.startswith("currency "):
                    found.add(note.removeprefix("currency ").strip())
    return found.pop() if len(found) == 1 else None
