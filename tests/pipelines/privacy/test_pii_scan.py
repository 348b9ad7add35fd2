"""Planted personal values through a whole run (ingest → train → score → analyze), then an
erasure and a re-ingest: every file of the data dir, the MLflow store, the Prefect database
and Prefect's result storage are scanned for them.

Every customer of the sample gets a distinctive name, e-mail and phone, two of them share a
mailbox, and every customer id is renamed to a distinctive one. With the default setting
(name and owner) and `--pseudonymize`, names may appear only in the staged customer master
and the risk list and report, e-mails and phones only in the identity keys, and customer ids
not at all in MLflow or Prefect.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pandas as pd
import pytest

from pipelines.store.settings import Settings
from tests.pipelines.privacy.scan import found_values

pytestmark = pytest.mark.flow

KEY = "a-test-key-for-pseudonyms-0123456789"

PATTERNS = {
    "name": re.compile(rb"Zyxwvut Plantedname\d{3}", re.IGNORECASE),
    "owner": re.compile(rb"Qwertzu Ownerplanted\d"),
    "email": re.compile(rb"planted\.(?:pii\.\d{3}|shared)@example\.org", re.IGNORECASE),
    "phone": re.compile(rb"\+?31 ?6 ?5550 ?\d{4}"),
    "customer_id": re.compile(rb"PLNT\d{7}"),
    "pseudonym key": re.compile(re.escape(KEY.encode())),
}
#: where each kind of planted value may be, by path pattern (relative to the data dir)
ALLOWED = {
    "name": (r"raw/", r"staged\.versions/[^/]+/customers\.parquet",
             r"scored/[^/]+/[^/]+/(risk_list\.(csv|parquet|xlsx)|report\.html)"),
    "owner": (r"raw/", r"staged\.versions/[^/]+/customers\.parquet",
              r"scored/[^/]+/[^/]+/(risk_list\.(csv|parquet|xlsx)|report\.html)"),
    "email": (r"raw/", r"staged\.versions/[^/]+/customer_keys\.parquet"),
    "phone": (r"raw/", r"staged\.versions/[^/]+/customer_keys\.parquet"),
}


def _plant(settings: Settings) -> dict[str, str]:
    """Distinctive personal values in the generated exports; old id -> planted id."""
    raw = settings.raw_dir
    master_path = next((raw / "customers").glob("*.csv"))
    master = pd.read_csv(master_path, dtype=str, keep_default_na=False)
    ids = {old: f"PLNT{i:07d}" for i, old in enumerate(master["customer_id"], start=1)}
    number = range(1, len(master) + 1)
    master["name"] = [f"Zyxwvut Plantedname{i:03d}" for i in number]
    master["email"] = [f"planted.pii.{i:03d}@example.org" for i in number]
    master.loc[master.index[:2], "email"] = "planted.shared@example.org"  # a shared mailbox
    master["phone"] = [f"+31 6 5550 {i:04d}" for i in number]
    master["owner"] = [f"Qwertzu Ownerplanted{i % 3}" for i in number]
    for path in raw.rglob("*.csv"):
        frame = master if path == master_path else pd.read_csv(path, dtype=str,
                                                               keep_default_na=False)
        frame["customer_id"] = frame["customer_id"].map(lambda v: ids.get(v, v))
        frame.to_csv(path, index=False)
    return ids


@pytest.fixture(scope="module")
def planted_run(prefect_api, tmp_path_factory):
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, get_current_settings

    from models.params import TrainParams
    from pipelines.flows import analyze_flow, weekly_flow
    from pipelines.sample.generate import generate_and_write

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.delenv("CHURN_PERSONAL_COLUMNS", raising=False)
        patch.setenv("CHURN_PSEUDONYMIZE", "1")
        patch.setenv("CHURN_PSEUDONYM_KEY", KEY)
        data_dir = tmp_path_factory.mktemp("pii") / "data"
        settings = Settings.from_env(data_dir)
        generate_and_write(settings, customers=400, seed=5)
        ids = _plant(settings)
        params = TrainParams(n_cutoffs=4, max_boost_rounds=60, min_positives=20,
                             min_negatives=20)
        result = weekly_flow(str(data_dir), params=params)
        analyzed = analyze_flow(str(data_dir))
        database = get_current_settings().server.database.connection_url.get_secret_value()
        prefect_db = Path(database.split(":///", 1)[1]).parent
        yield {"settings": Settings.from_env(data_dir), "ids": ids, "result": result,
               "analyzed": analyzed, "prefect_db": prefect_db,
               "prefect_storage": Path(PREFECT_LOCAL_STORAGE_PATH.value())}


def _outside_allowed(found: dict[str, dict[str, set[str]]]) -> dict[str, dict[str, int]]:
    """Planted value kind -> file outside its allowed outputs -> how many values it holds."""
    outside: dict[str, dict[str, int]] = {}
    for kind, allowed in ALLOWED.items():
        for file, values in found[kind].items():
            relative = file.split("/", 1)[1]
            if not any(re.match(pattern, relative) for pattern in allowed):
                outside.setdefault(kind, {})[file] = len(values)
    return outside


def test_planted_personal_values_stay_in_the_allowed_outputs(planted_run):
    settings = planted_run["settings"]
    found = found_values([settings.data_dir], PATTERNS)
    # the run did use them: the risk list names the customers, the keys link them
    assert any("risk_list.csv" in f for f in found["name"])
    assert any("customer_keys.parquet" in f for f in found["email"])
    assert any("customer_keys.parquet" in f for f in found["phone"])
    assert _outside_allowed(found) == {}


def test_the_prefect_database_and_results_hold_no_personal_values_nor_customer_ids(planted_run):
    found = found_values([planted_run["prefect_db"], planted_run["prefect_storage"]], PATTERNS)
    assert {kind: files for kind, files in found.items() if files} == {}


def test_mlflow_holds_no_personal_values_nor_customer_ids(planted_run):
    found = found_values([planted_run["settings"].data_dir / "mlflow"], PATTERNS)
    assert {kind: files for kind, files in found.items() if files} == {}


def test_the_prefect_artifact_lists_top_customers_by_pseudonym(planted_run):
    from prefect.client.orchestration import get_client

    from models.privacy import pseudonym

    with get_client(sync_client=True) as client:
        artifacts = client.read_latest_artifacts()
    table = next(a for a in artifacts if a.key == "churn-top-customers")
    rows = table.data if isinstance(table.data, list) else json.loads(table.data)
    risk = pd.read_parquet(planted_run["result"]["scored"]["risk_list_parquet"])
    expected = [pseudonym(c, KEY.encode()) for c in risk["customer_id"].head(len(rows))]
    assert [r["customer_id"] for r in rows] == expected
    assert not {"customer_name", "owner", "email", "phone"} & set(rows[0])


def test_shared_mailbox_is_masked_in_the_ingest_report(planted_run):
    path = planted_run["settings"].reports_dir / "ingest_report.json"
    identity = json.loads(path.read_text())["identity"]
    assert identity["shared_keys"] == 1 and identity["shared_examples"] == ["pl…@example.org"]


def test_every_file_and_folder_of_the_data_dir_is_owner_only(planted_run):
    root = planted_run["settings"].data_dir
    open_to_others = [str(p.relative_to(root)) for p in [root, *root.rglob("*")]
                      if not p.is_symlink() and stat.S_IMODE(p.lstat().st_mode) & 0o077]
    assert open_to_others == []


def test_erased_customers_leave_every_derived_store_and_stay_out_on_reingest(planted_run):
    from pipelines.flows import ingest_flow
    from pipelines.privacy.erase import erase_customers
    from pipelines.privacy.erasure_log import erasure_records

    settings = planted_run["settings"]
    risk = pd.read_parquet(settings.scored_dir / "latest" / "risk_list.parquet")
    first, second = risk["customer_id"].iloc[0], risk["customer_id"].iloc[1]
    number = int(second.removeprefix("PLNT"))
    by_email = f"planted.pii.{number:03d}@example.org"  # found through the identity keys
    erased = erase_customers(settings, [first, by_email])
    assert erased.customers == sorted([first, second])
    assert erased.models_to_retrain == ["1"]
    assert erased.touched["staged/purchases"] > 0
    records = erasure_records(settings)
    assert len(records) == 2 and first not in str(records) and second not in str(records)

    reingested = ingest_flow(str(settings.data_dir))
    accounts = {f["file"]: f for f in reingested["files"]}
    assert accounts["purchases/orders_export.csv"]["erased"] > 0
    assert all(f["balanced"] for f in reingested["files"])
    gone = {first, second}
    for kind in ("purchases", "complaints", "interactions", "customers", "customer_keys"):
        staged = pd.read_parquet(settings.staged_dir / f"{kind}.parquet")
        assert not staged["customer_id"].isin(gone).any(), kind
    values = {first, second, f"Zyxwvut Plantedname{int(first.removeprefix('PLNT')):03d}",
              f"Zyxwvut Plantedname{number:03d}", by_email}
    pattern = re.compile("|".join(re.escape(v) for v in values).encode())
    found = found_values([settings.data_dir], {"erased": pattern})["erased"]
    assert sorted(f for f in found if not f.split("/", 1)[1].startswith("raw/")) == []
