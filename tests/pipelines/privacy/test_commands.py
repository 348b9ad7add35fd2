"""`churn erase` and `churn --pseudonymize` at the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.ingest.run import ingest_raw_exports
from pipelines.store.settings import Settings

runner = CliRunner()


def test_erase_reports_what_it_removed_and_records_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("CHURN_ERASURE_KEY", raising=False)
    settings = Settings.from_env(tmp_path / "data")
    (settings.raw_dir / "purchases").mkdir(parents=True)
    (settings.raw_dir / "purchases" / "o.csv").write_text(
        "customer_id,order_id,order_date,amount\nC1,O1,2024-01-05,5\nC2,O2,2024-01-06,6\n")
    ingest_raw_exports(settings)
    result = runner.invoke(app, ["erase", "C1", "C9", "--data-dir", str(settings.data_dir)],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "erased 1 customer(s)" in result.output
    assert "not found in any store" in result.output and "C9" in result.output
    assert "staged/purchases: 1 row(s) removed" in result.output
    assert (settings.data_dir / "privacy" / "erasures.json").exists()


def test_erase_on_a_missing_data_dir_is_one_sentence(tmp_path):
    result = runner.invoke(app, ["erase", "C1", "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "erase failed" in result.output and "does not exist" in result.output


def test_pseudonymize_without_a_key_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.delenv("CHURN_PSEUDONYM_KEY", raising=False)
    result = runner.invoke(app, ["--pseudonymize", "score", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "pseudonymize failed" in result.output and "CHURN_PSEUDONYM_KEY" in result.output
