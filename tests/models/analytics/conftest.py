"""A small simulated business, shared by the analytics tests (simulated once per session)."""

from __future__ import annotations

import pytest

from features.sources import SourceTables
from tests.simulated import staged_from_simulation


@pytest.fixture(scope="session")
def simulated() -> SourceTables:
    return staged_from_simulation()
