"""What `churn ingest --explain` prints for a file (the printer, without a Prefect run)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from pipelines import cli
from pipelines.ingest.run import ingest_raw_exports
from pipelines.store.settings import Settings


def test_explain_lines_show_detection_and_keep_bracketed_headers(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    folder = settings.raw_dir / "complaints"
    folder.mkdir(parents=True)
    (folder / "tickets.csv").write_text(
        "ID,Requester ID,Created at,Solved at,Ticket Category [list]\n"
        "1,007,2024-01-01 10:00:00,,delivery\n", encoding="utf-8")
    report = ingest_raw_exports(settings, now=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                                explain=True)
    with cli.console.capture() as captured:
        cli.print_readings([asdict(r) for r in report.readings])
    text = " ".join(captured.get().split())
    assert "complaints/tickets.csv -> complaints (preset zendesk)" in text
    assert "encoding utf-8, delimiter ',', locale en" in text
    assert "Ticket Category [list] -> category" in text
    assert "formats: opened_at: ISO" in text


def test_explain_shows_units_and_the_runners_up_of_a_chosen_column(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    folder = settings.raw_dir / "purchases"
    folder.mkdir(parents=True)
    (folder / "tr.csv").write_text("Müşteri No;Sipariş No;Tarih;Net Tutar;Tutar (TL)\n"
                                   "00123;S-1;05.03.2024;1.000,00;1.234,56\n",
                                   encoding="utf-8")
    report = ingest_raw_exports(settings, now=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                                explain=True)
    with cli.console.capture() as captured:
        cli.print_readings([asdict(r) for r in report.readings])
    text = " ".join(captured.get().split())
    assert "Tutar (TL) -> amount" in text
    assert "units/notes: Tutar (TL): currency TL" in text
    assert "chose Tutar (TL) for amount over Net Tutar" in text


def test_write_mapping_writes_the_suggestion_and_leaves_sources_yaml_alone(tmp_path,
                                                                           monkeypatch):
    import yaml
    from typer.testing import CliRunner

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))
    data = tmp_path / "data"
    (data / "raw" / "purchases").mkdir(parents=True)
    (data / "raw" / "complaints").mkdir(parents=True)
    (data / "raw" / "purchases" / "nl.csv").write_text(
        "Klant code,Datum,Bestelling,Bedrag [EUR]\n1,2024-01-01,A,1\n", encoding="utf-8")
    (data / "raw" / "complaints" / "view.csv").write_text(
        "ID,Requester,Requester email,Created at,Solved at\n"
        "1,Ann,ann@x.nl,2024-01-01 10:00:00,\n", encoding="utf-8")
    (data / "sources.yaml").write_text("files: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["ingest", "--data-dir", str(data),
                                          "--write-mapping"])
    assert result.exit_code == 0, result.output
    assert "sources.yaml.suggested" in result.output
    assert (data / "sources.yaml").read_text(encoding="utf-8") == "files: []\n"
    assert not (data / "staged").exists() or not any((data / "staged").iterdir())
    text = (data / "sources.yaml.suggested").read_text(encoding="utf-8")
    assert '"Bedrag [EUR]": amount  # detected (currency EUR)' in text
    assert '"Klant code"  : customer_id  # SUGGESTED: confirm or rename' in text
    assert "# purchases/nl.csv: purchases" in text
    assert "#   missing required column(s) customer_id, order_id" in text
    assert '#   "Requester email" -> email (detected)' in text
    assert yaml.safe_load(text) == {"files": [
        {"pattern": "purchases/nl.csv", "kind": "purchases", "columns": {
            "Datum": "order_date", "Bedrag [EUR]": "amount", "Klant code": "customer_id",
            "Bestelling": "order_id"}},
        {"pattern": "complaints/view.csv", "kind": "complaints", "preset": "zendesk"}]}
