"""Every broken or hostile input gets a clear sentence, a quarantine or a warning: never a
crash, a leak, a hang or silent loss (the corpus is `tests/fixtures/make_bad_inputs.py`)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from features.contracts import TIMESTAMP_COLUMNS
from pipelines.ingest.bounds import EARLIEST_DATE, MAX_VALUES
from pipelines.ingest.readers import _MOJIBAKE
from pipelines.ingest.run import FUTURE_TOLERANCE, IngestError, ingest_raw_exports
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables, load_staged_actions
from tests.fixtures.make_bad_inputs import NOW, PLACEHOLDERS, BadInput, bad_inputs, write_case

CASES = bad_inputs()
# What a problem line must never show: tracebacks, reprs, library messages, internals.
LEAKS = re.compile(r"Traceback|Error\b|Exception|object at 0x|<class|codec can't|\\x[0-9a-f]{2}|"
                   r"Errno|dtype|DataFrame|Series|breaks its contract|unexpected problem|root:x")
ID_COLUMNS = ("customer_id", "order_id", "complaint_id", "interaction_id")


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: BadInput, tmp_path, monkeypatch):
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "data"
    write_case(case, data, tmp_path / "outside")
    settings = Settings.from_env(data)
    try:
        ingest_raw_exports(settings, now=NOW, wait_seconds=1)
    except IngestError as error:
        for problem in error.problems:
            assert "\n" not in problem and not LEAKS.search(problem), problem
        assert case.outcome == "refused", error.problems
        about = [p for p in error.problems if case.file in p]
        assert about and case.expect in about[0].lower(), error.problems
        assert not (data / "staged").exists()
        _nothing_half_written(data)
        return
    assert case.outcome != "refused", f"{case.name}: staged instead of refused"
    _nothing_half_written(data)
    saved = json.loads((settings.reports_dir / "ingest_report.json").read_text())
    files = {f["file"]: f for f in saved["files"]}
    for account in saved["files"]:
        assert account["rows_read"] == (account["staged"] + account["merged"]
                                        + account["duplicates"] + account["quarantined"])
        assert account["balanced"]
    account = files[case.file]
    assert account["rows_read"] == case.rows, "rows lost"
    assert account["quarantined"] == case.quarantined, account
    if case.quarantined:
        assert all(case.expect in reason.lower() for reason in account["reasons"]), account
    warnings = saved.get("warnings", [])
    if case.outcome == "warned":
        assert any(case.expect in w.lower() and case.file in w for w in warnings), warnings
    else:
        assert not warnings, warnings
    _no_wrong_values(settings, case)


def _nothing_half_written(data):
    leftovers = [p for p in data.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


def _no_wrong_values(settings: Settings, case: BadInput) -> None:
    tables = load_source_tables(settings)
    frames = {**tables.as_dict(), "actions": load_staged_actions(settings)}
    latest = pd.Timestamp(NOW) + FUTURE_TOLERANCE
    for kind in TIMESTAMP_COLUMNS:
        frame = frames[kind]
        if frame is None:
            continue
        for column in ID_COLUMNS:
            if column in frame:
                values = frame[column].dropna().astype(str)
                assert not values.isin(PLACEHOLDERS).any(), values.tolist()
                assert not values.str.contains(r"[\x00-\x1f\ufeff]").any(), values.tolist()
                assert not values.str.fullmatch(r"\d(?:[.,]\d+)?E\+\d+", case=False).any()
        for column in TIMESTAMP_COLUMNS[kind]:
            stamps = frame[column].dropna()
            assert (stamps >= pd.Timestamp(EARLIEST_DATE, tz="UTC")).all(), stamps.tolist()
            assert (stamps <= latest).all(), stamps.tolist()
        for column in ("name", "channel", "category"):
            if column in frame:
                assert not frame[column].dropna().str.contains(_MOJIBAKE).any()
    purchases = tables.purchases
    for column, bound in MAX_VALUES["purchases"].items():
        assert (purchases[column].dropna().abs() <= bound).all()
    completed = purchases[purchases["status"] == "completed"]
    assert (completed["amount"] >= 0).all()
    assert (purchases["quantity"].dropna() >= 0).all()
    for column, expected in case.staged_values.items():
        frame = tables.customers if column == "name" else tables.purchases
        assert frame is not None
        assert set(expected) <= set(frame[column]), frame[column].tolist()


def test_a_refused_file_added_after_a_good_run_is_not_hidden_by_the_manifest(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    case = next(c for c in CASES if c.name == "header only")
    write_case(case, settings.data_dir, tmp_path / "outside")
    ingest_raw_exports(settings, now=NOW)
    (settings.raw_dir / "purchases" / "orders.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(IngestError, match=r"purchases/orders\.xls: is an old Excel"):
        ingest_raw_exports(settings, now=NOW)
    report = ingest_raw_exports(settings, now=NOW, skip_bad_files=True)
    assert [p.split(":")[0] for p in report.skipped_files] == ["purchases/orders.xls"]
