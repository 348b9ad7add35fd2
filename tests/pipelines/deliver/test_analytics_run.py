"""`analytics/<as-of>/`: written whole, Excel-safe, self-contained, in the reader's language."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines.deliver.analytics_run import analytics_href, write_analytics
from pipelines.deliver.currency import data_currency
from pipelines.store.settings import Settings
from tests.simulated import staged_from_simulation

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
AS_OF = dt.date(2026, 10, 31)
EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def tables():
    tables = staged_from_simulation(customers=600, seed=3)
    customers = tables.customers.copy()
    customers.loc[customers.index[:40], "region"] = EVIL  # a hostile region name
    return type(tables)(tables.purchases, tables.complaints, tables.interactions, customers,
                        checked=True)


@pytest.fixture(scope="module")
def written(tables, tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), mlflow_tracking_uri="")
    first = write_analytics(settings, tables, AS_OF, lang="nl")
    second = write_analytics(settings, tables, AS_OF, lang="tr")  # replaces the first whole
    return settings, first, second


def test_the_folder_is_replaced_whole_and_no_temporary_folder_stays(written):
    settings, first, second = written
    folder = Path(second["folder"])
    assert first["folder"] == second["folder"] and folder.name == str(AS_OF)
    assert sorted(p.name for p in folder.iterdir()) == ["analytics.html", "analytics.xlsx",
                                                       "headline.json"]
    # the link and the one folder it points at: the first run's folder is gone
    assert folder.is_symlink() and len(list(folder.parent.iterdir())) == 2
    headline = json.loads((folder / "headline.json").read_text(encoding="utf-8"))
    assert headline["lang"] == "tr" and headline["label"]["horizon_days"] == 90
    assert headline["label_source"].startswith("default")
    assert 0.2 < headline["top_revenue_share"] <= 1


def test_the_page_is_self_contained_escaped_and_in_turkish(written):
    page = Path(written[1]["page"]).read_text(encoding="utf-8")
    assert '<html lang="tr">' in page and "Müşteri tutma analizi" in page
    assert all(src.startswith("data:image/png;base64,")
               for src in re.findall(r'src="([^"]+)"', page))
    assert "<link" not in page and "@import" not in page and "<script" not in page
    assert EVIL not in page and html_escaped(EVIL) in page
    for anchor in ("headline", "definition", "retention", "by-dimension",
                   "cohorts-customer_retention", "cohorts-revenue_retention", "complaints",
                   "bands", "engagement", "clv", "concentration"):
        assert f'id="{anchor}"' in page, anchor
    assert "verinin para biriminde" in page  # no currency known: said so


def html_escaped(text: str) -> str:
    import html

    return html.escape(text)


def test_the_workbook_has_one_sheet_per_table_and_no_formulas(written):
    path = Path(written[1]["workbook"])
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(archive.read(n).decode("utf-8") for n in sheets)
    assert len(sheets) == 10  # summary + 9 tables (no scoring run: no tier sheet)
    assert "<f>" not in xml  # nothing is stored as a formula
    book = pd.read_excel(path, sheet_name=None)
    assert "Tutma" in book and "Kohort müşteri" in book
    retention = book["Tutma"]
    assert (retention["Grup"] == EVIL).any()  # kept as the text it is
    assert retention["Kayıp oranı"].between(0, 1).all()


def test_the_currency_comes_from_the_settings_or_the_amount_headers(tmp_path):
    settings = Settings(data_dir=tmp_path, mlflow_tracking_uri="")
    assert data_currency(settings) is None
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "ingest_report.json").write_text(json.dumps({"readings": [
        {"kind": "purchases", "columns": {"Tutar (TL)": "amount"},
         "notes": {"Tutar (TL)": ["currency TL"]}}]}), encoding="utf-8")
    assert data_currency(settings) == "TL"
    assert data_currency(Settings(data_dir=tmp_path, mlflow_tracking_uri="",
                                  currency="EUR")) == "EUR"


def test_the_scoring_report_links_the_page_relative_to_its_run(written, tmp_path):
    settings = written[0]
    run_dir = settings.scored_dir / str(AS_OF) / "20261101T000000Z-abcdef"
    assert analytics_href(settings, AS_OF, run_dir) == \
        f"../../../analytics/{AS_OF}/analytics.html"
    assert analytics_href(settings, dt.date(2026, 9, 30), run_dir) is None


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it: .ci/run)")
def test_the_page_renders_in_headless_chromium_with_every_chart(written, tmp_path):
    probe = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
             "document.body.dataset.images=i.length+':'+i.filter(x=>x.complete&&x.naturalWidth>0)"
             ".length;});</script>")
    page = Path(written[1]["page"]).read_text(encoding="utf-8")
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom",
         path.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line for line in done.stderr.splitlines() if ":CONSOLE" in line] == []
    images = re.search(r'data-images="(\d+):(\d+)"', done.stdout)
    assert images and images.group(1) == images.group(2) and int(images.group(1)) >= 5
