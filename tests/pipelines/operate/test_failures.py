"""A known failure is one sentence, the same in the terminal and in a Failed run's state."""

from __future__ import annotations

import pytest
import typer

from pipelines.cli_common import run_step
from pipelines.ingest.run import IngestError
from pipelines.operate.failures import failure_message


def _printed(capsys, error: BaseException) -> str:
    def fail():
        raise error

    with pytest.raises(typer.Exit):
        run_step("run", fail)
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize("error", [
    IngestError(["purchases: no files in /data/raw/purchases (CSV, xlsx or parquet exports)"]),
    IngestError(["a.csv: unreadable", "b.csv: no header row [Bedrag]"]),
    FileNotFoundError("no staged purchases under /data/staged; run `churn ingest` first"),
    ValueError("only 1 cutoff(s) between 2026-01-01 and 2026-03-01; training needs at least 2"),
], ids=["one-ingest-problem", "two-ingest-problems", "missing-file", "refused-input"])
def test_the_cli_prints_exactly_the_failure_message(capsys, error):
    assert _printed(capsys, error) == failure_message("run", error)


def test_messages_are_one_line_and_name_the_step():
    assert failure_message("run", IngestError(["a.csv: unreadable", "b.csv: empty"])) == \
        "ingest failed: 2 problems: a.csv: unreadable; b.csv: empty"
    assert failure_message("score", ValueError("bad")) == "score failed: bad"
    assert failure_message("run", RuntimeError("a bug")) is None  # a traceback is better
