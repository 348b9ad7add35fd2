"""The data dir the whole-ingest tests stage into."""

from __future__ import annotations

import pytest

from pipelines.store.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(tmp_path / "data")

