"""`churn serve` refuses what it cannot serve before it starts anything."""

from __future__ import annotations

from typer.testing import CliRunner

from pipelines.cli import app


def test_an_unknown_time_zone_is_one_line_and_starts_nothing(tmp_path):
    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path / "data"),
                                      "--timezone", "Mars/Olympus_Mons"])
    assert result.exit_code == 1
    assert "serve failed" in result.output and "Mars/Olympus_Mons" in result.output
    assert not (tmp_path / "data").exists()  # no Prefect home, no server
