"""Where things live, and how the files the pipeline writes are protected."""

from __future__ import annotations

import pytest

from pipelines.store.settings import Settings, data_directory


def test_files_the_pipeline_creates_are_readable_by_their_owner_only(tmp_path, monkeypatch):
    import stat

    from pipelines.ingest.run import ingest_raw_exports

    monkeypatch.delenv("CHURN_SHARED_FILES", raising=False)
    settings = Settings.from_env(tmp_path / "data")
    (settings.raw_dir / "purchases").mkdir(parents=True)
    (settings.raw_dir / "purchases" / "o.csv").write_text(
        "customer_id,order_id,order_date,amount\nC1,O1,2024-01-05,5\n")
    ingest_raw_exports(settings)
    written = [p for p in settings.data_dir.rglob("*") if not p.is_symlink()
               and "raw" not in p.relative_to(settings.data_dir).parts]
    assert any(p.suffix == ".parquet" for p in written)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_an_object_storage_url_is_no_folder_and_says_what_to_use_instead():
    with pytest.raises(ValueError, match="is in object storage; run this through a `churn` "
                                         "command"):
        data_directory("s3://bucket/prefix")
