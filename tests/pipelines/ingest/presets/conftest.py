"""The fixture corpus, read file by file as `churn ingest` reads it."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule
from tests.fixtures.make_corpus import write_corpus

NOW = pd.Timestamp("2026-01-01", tz="UTC")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root)
    return root / "raw"


def staged(raw, relative: str, timezone: str = "UTC"):
    path = raw / relative
    return read_export(path, path.parent.name, SourceRule(timezone=timezone), "UTC", NOW)


