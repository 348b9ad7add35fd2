"""The whole pipeline through real Prefect flows, on a temp data dir and MLflow store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from pipelines.store.settings import Settings

pytestmark = pytest.mark.flow

CSV_COLUMNS = [
    "rank", "customer_id", "customer_name", "segment", "master_segment", "owner", "risk_tier",
    "churn_probability", "value_at_risk", "annual_revenue", "lifetime_spend", "last_purchase_date",
    "days_since_last_purchase", "usual_interval_days", "open_complaints", "last_satisfaction",
    "reason_1", "reason_2", "reason_3", "suggested_action", "data_as_of", "model_version",
    "list_run_id", "row_id", "holdout", "action_taken", "action_date", "action_outcome",
    "action_cost",
]


@pytest.fixture(scope="module")
def demo(prefect_api, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.delenv("MLFLOW_TRACKING_URI", raising=False)
    from models.params import TrainParams
    from pipelines.flows import demo_flow

    data_dir = tmp_path_factory.mktemp("demo") / "data"
    params = TrainParams(n_cutoffs=6, max_boost_rounds=400)
    result = demo_flow(str(data_dir), customers=1500, seed=3, params=params)
    return data_dir, result


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_demo_ends_with_the_retention_analytics_of_its_data_end(demo):
    data_dir, result = demo
    analyzed = result["analyzed"]
    assert analyzed["as_of"] == result["scored"]["as_of"]
    page = data_dir / "analytics" / str(analyzed["as_of"]) / "analytics.html"
    assert page.exists()
    # scored before the analytics: the top customers' revenue is split over the new tiers
    assert analyzed["headline"]["top_share_in_top_tiers"] is not None


def test_ingest_accounts_for_every_row(demo):
    _, result = demo
    files = result["ingested"]["files"]
    assert {f["kind"] for f in files} == {"purchases", "complaints", "interactions", "customers"}
    assert all(f["balanced"] and f["rows_read"] > 0 for f in files)


def test_model_beats_recency_baseline_out_of_time(demo):
    _, result = demo
    trained = result["trained"]
    assert trained["validation"]["roc_auc"] > trained["baseline_recency"]["roc_auc"]
    graded = result["graded"]
    assert graded["truth_model_roc_auc"] <= graded["truth_ceiling_roc_auc"] + 0.02


def test_risk_csv_columns_and_invariants(demo):
    _, result = demo
    path = Path(result["scored"]["risk_list_csv"])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    risk = pd.read_csv(path, dtype={"customer_id": str}, encoding="utf-8-sig",
                       keep_default_na=False)
    assert list(risk.columns) == CSV_COLUMNS
    assert risk["customer_id"].str.fullmatch(r"\d{7}").all()  # leading zeros kept
    assert risk["churn_probability"].between(0, 1).all()
    # ranked by tier (Critical first), then by value at risk within the tier, by default
    tier_order = risk["risk_tier"].map({t: i for i, t in enumerate(
        ["Critical", "At risk", "Watch", "Safe", "Lapsed"])})
    assert tier_order.notna().all() and tier_order.is_monotonic_increasing
    # (Lapsed customers, a win-back audience, are ranked by lifetime spend instead)
    assert all((np.diff(g["value_at_risk"]) <= 0).all() for tier, g in risk.groupby("risk_tier")
               if tier != "Lapsed")
    lapsed = risk[risk["risk_tier"] == "Lapsed"]
    assert (np.diff(lapsed["lifetime_spend"]) <= 0).all()
    assert risk["rank"].tolist() == list(range(1, len(risk) + 1))
    top = risk[risk["risk_tier"] == "Critical"]
    assert len(top) > 0 and (top["reason_1"].str.len() > 0).all()
    assert (risk["suggested_action"].str.len() > 0).all() and risk["segment"].str.len().gt(0).all()
    assert risk["customer_name"].str.len().gt(0).mean() > 0.9  # names from the customer master
    assert (risk["data_as_of"] == result["scored"]["as_of"]).all()
    run_dir = Path(result["scored"]["run_dir"])
    assert {"risk_list.xlsx", "report.html", "report.md", "metadata.json"} <= {
        p.name for p in run_dir.iterdir()}
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="calibration-lift"' in report  # from the training run's reliability table


def test_registered_champion_reloads_with_identical_predictions(demo):
    data_dir, result = demo
    from features.event_types import customer_features_with_event_types
    from pipelines.store.staged import load_source_tables
    from pipelines.tracking.registry import load_champion

    settings = Settings.from_env(data_dir)
    champion = load_champion(settings)
    model, version, run_id = champion.model, champion.version, champion.run_id
    assert version == result["trained"]["model_version"] == "1"
    assert run_id == result["trained"]["run_id"]
    as_of = dt.date.fromisoformat(result["scored"]["as_of"])
    # what scoring builds: the catalog features plus the model's learned interaction types
    features = customer_features_with_event_types(load_source_tables(settings), as_of,
                                                  model.event_types)
    risk = pd.read_parquet(result["scored"]["risk_list_parquet"]).set_index("customer_id")
    again = pd.Series(model.predict_probability(features), index=features["customer_id"])
    np.testing.assert_allclose(again.loc[risk.index].round(6), risk["churn_probability"])
    run = mlflow.get_run(run_id)
    assert run.data.metrics["oot_roc_auc"] == pytest.approx(result["trained"]["validation"]["roc_auc"])
    assert "baseline_recency_roc_auc" in run.data.metrics
    assert "truth_ceiling_roc_auc" in run.data.metrics
    assert run.inputs.dataset_inputs[0].dataset.name == "model_input"


def test_scoring_again_archives_a_new_run_without_touching_the_old(demo):
    data_dir, result = demo
    from pipelines.flows import score_flow

    first = Path(result["scored"]["run_dir"])
    before = (first / "risk_list.csv").read_bytes()
    second = score_flow(str(data_dir), None)
    assert Path(second["run_dir"]) != first
    assert (first / "risk_list.csv").read_bytes() == before
    latest = Path(data_dir) / "scored" / "latest"
    assert latest.resolve() == Path(second["run_dir"]).resolve()
    metadata = json.loads((Path(second["run_dir"]) / "metadata.json").read_text())
    assert metadata["model_version"] == "1" and metadata["customers_scored"] > 0
    assert metadata["tier_policy"]["version"] and metadata["sort"] == "tier"
    # same data, same model: nobody enters or leaves the top tiers
    assert metadata["changes"]["previous_run"] == str(first.relative_to(first.parents[1]))
    assert metadata["changes"]["entered_top"] == metadata["changes"]["left_top"] == []
    # the first list's randomisations stand: the same customers held out, none drawn afresh
    held_before = json.loads((first / "metadata.json").read_text())["holdout"]
    assert held_before["held_out"] > 0
    assert metadata["holdout"]["randomised"] == 0
    assert metadata["holdout"]["carried_over_held_out"] == held_before["held_out"]
    assert (first / "risk_list.csv").stat().st_mode & 0o222 == 0  # archived files are read-only


def test_scoring_publishes_prefect_artifacts(demo):
    from prefect.artifacts import Artifact

    table = Artifact.get("churn-top-customers")
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert rows[0]["rank"] == 1 and "customer_id" in rows[0]
    summary = Artifact.get("churn-scoring-summary")
    assert "Customers scored" in summary.data and "risk_list.xlsx" in summary.data


def test_scoring_is_monitored_against_the_reference_stored_with_the_model(demo):
    """The training run stores the reference; the scoring run compares with it, says so in
    its report and logs a monitoring run linked to the model version and the scoring run."""
    from pipelines.flows import monitor_flow
    from pipelines.tracking.monitoring import REFERENCE_ARTIFACT

    data_dir, result = demo
    scored, trained = result["scored"], result["trained"]
    client = mlflow.tracking.MlflowClient()
    assert REFERENCE_ARTIFACT.split("/")[-1] in [
        a.path.split("/")[-1] for a in client.list_artifacts(trained["run_id"], "monitoring")]
    run_dir = Path(scored["run_dir"])
    monitoring = json.loads((run_dir / "monitoring.json").read_text())
    assert monitoring["model_version"] == "1" and monitoring["features"]
    assert 0 <= monitoring["score_psi"] < 0.2 and not monitoring["small_list"]
    assert monitoring["population_current"] == scored["customers_scored"]
    html = (run_dir / "report.html").read_text()
    assert 'id="monitoring"' in html and 'id="track-record"' in html
    run = mlflow.get_run(scored["monitored"]["monitoring_run_id"])
    assert run.data.tags["model_version"] == "1"
    assert run.data.tags["scoring_run_id"] == run_dir.name
    assert run.data.metrics["score_psi"] == pytest.approx(monitoring["score_psi"])
    graded = monitor_flow(str(data_dir))
    assert {row["status"] for row in graded["lists"]} == {"not matured"}
    assert pd.read_csv(graded["files"]["csv"])["run_id"].iloc[0] == run_dir.name


def test_an_order_history_alone_still_gives_a_risk_list(demo, tmp_path):
    """Only purchases are mandatory: no tickets, interactions or customer master."""
    import shutil

    from models.params import TrainParams
    from pipelines.flows import ingest_flow, score_flow, train_flow

    source_dir, _ = demo
    data_dir = tmp_path / "orders-only"
    shutil.copytree(source_dir / "raw" / "purchases", data_dir / "raw" / "purchases")
    ingested = ingest_flow(str(data_dir))
    assert {f["kind"] for f in ingested["files"]} == {"purchases"}
    trained = train_flow(str(data_dir), None, TrainParams(n_cutoffs=6, max_boost_rounds=300))
    assert trained["validation"]["roc_auc"] > 0.6
    scored = score_flow(str(data_dir), None)
    risk = pd.read_parquet(scored["risk_list_parquet"])
    assert len(risk) > 0 and risk["churn_probability"].between(0, 1).all()
    groups = set(risk[["reason_group_1", "reason_group_2", "reason_group_3"]].stack()) - {""}
    assert groups <= {"overdue", "purchases_falling", "returns"}


@pytest.fixture(scope="module")
def contractual(demo, tmp_path_factory):
    """The demo's exports trained with the contractual definition and a 30-day gap, then scored
    (its own data dir and MLflow store)."""
    import shutil

    from features.labels import LabelSpec
    from models.params import TrainParams
    from pipelines.flows import ingest_flow, score_flow, train_flow

    source_dir, _ = demo
    data_dir = tmp_path_factory.mktemp("contractual") / "data"
    shutil.copytree(source_dir / "raw", data_dir / "raw")
    ingest_flow(str(data_dir))
    spec = LabelSpec(definition="cancellation", gap_days=30)
    # cancellations are rarer than lapses: fewer churners than the default guard asks for
    params = TrainParams(label=spec, n_cutoffs=6, max_boost_rounds=300, min_positives=30,
                         min_negatives=30)
    trained = train_flow(str(data_dir), None, params)
    scored = score_flow(str(data_dir), None)
    return data_dir, spec, trained, scored


def test_a_contractual_gap_definition_is_stated_and_used_everywhere(contractual):
    data_dir, spec, trained, scored = contractual
    from features.build import to_naive_utc
    from pipelines.store.staged import load_source_tables
    from pipelines.tracking.registry import META_ARTIFACT, load_champion

    settings = Settings.from_env(data_dir)
    # the training snapshot: its own file name, the spec in its manifest, cancellation labels
    data_end = pd.Timestamp(trained["valid_cutoff"]) + pd.Timedelta(days=spec.span_days)
    snapshot = settings.model_input_dir / f"{data_end.date()}_h90_g30_cancellation.parquet"
    assert snapshot.exists(), sorted(p.name for p in settings.model_input_dir.iterdir())
    manifest = json.loads(snapshot.with_suffix(".json").read_text())
    assert manifest["label"] == {"definition": "cancellation", "horizon_days": 90, "gap_days": 30}
    frame = pd.read_parquet(snapshot)
    last = frame[frame["cutoff"] == frame["cutoff"].max()]
    master = load_source_tables(settings).customers.set_index("customer_id")
    cancel = to_naive_utc(master["cancelled_at"]).reindex(last["customer_id"]).to_numpy()
    cutoff = last["cutoff"].iloc[0]
    within = (cancel >= cutoff + pd.Timedelta(days=1)) & (cancel < cutoff + pd.Timedelta(days=121))
    assert last["churned"].tolist() == within.astype(int).tolist()  # cancelled in (c, c + 120]
    assert 0 < last["churned"].sum() < len(last)

    # MLflow: the flat params, the model meta, the reloaded champion and the model card
    run = mlflow.get_run(trained["run_id"])
    assert (run.data.params["churn_definition"], run.data.params["gap_days"],
            run.data.params["horizon_days"]) == ("cancellation", "30", "90")
    assert run.data.params["model_input_file"] == snapshot.name
    meta = json.loads(mlflow.artifacts.load_text(f"runs:/{trained['run_id']}/{META_ARTIFACT}"))
    assert meta["label"] == spec.model_dump()
    model = load_champion(settings).model
    assert model.label == spec
    card = mlflow.artifacts.load_text(f"runs:/{trained['run_id']}/model_card.md")
    assert ("A cancellation in the customer master in the 120 days after the cutoff (a 30-day "
            "gap, then a 90-day window") in card
    assert "No completed purchase" not in card

    # the scoring run: metadata, report.md and report.html state the same definition
    run_dir = Path(scored["run_dir"])
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["label"] == spec.model_dump() and "horizon_days" not in metadata
    definition = metadata["churn_definition"]
    assert "cancellation" in definition and "30-day gap" in definition
    assert "purchase in the 90 days" not in definition
    assert definition in (run_dir / "report.md").read_text(encoding="utf-8")
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert definition in page
    # the churn-rate history is the contractual rate, over the spec's window
    assert "who cancelled in the next 120 days (a 30-day gap plus a 90-day window)" in page


@pytest.mark.flow
def test_a_known_failure_is_a_failed_run_with_the_clis_sentence(prefect_api, tmp_path):
    """Nightly ingest and monthly training on a schedule: the Prefect UI shows the sentence the
    CLI prints; a direct call still raises the error itself."""
    from pipelines.flows import ingest_flow, score_flow
    from pipelines.ingest.run import IngestError

    empty = tmp_path / "data"
    (empty / "raw" / "purchases").mkdir(parents=True)
    state = ingest_flow(str(empty), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("ingest failed: purchases: no files in ")
    with pytest.raises(IngestError):
        ingest_flow(str(empty))
    state = score_flow(str(tmp_path / "nothing"), return_state=True)
    assert state.is_failed() and state.message.startswith("score failed: ")


def test_a_copied_data_dir_whose_complaints_export_went_scores_on_its_own_files(demo, tmp_path):
    """The demo's data dir copied elsewhere (its MLflow store names the original's files),
    then its complaints export removed and ingest rerun: scoring reads the copy's model and
    either scores with complaints as no data (no reason citing them) or refuses in one
    sentence with the differences; never a traceback."""
    import shutil

    from models.compatibility import NoDataPolicy, model_gain_shares, source_of
    from models.explain import GROUP_OF_FEATURE
    from pipelines.flows import ingest_flow, score_flow
    from pipelines.operate.failures import failure_message
    from pipelines.tracking.compatibility import ChampionMismatchError
    from pipelines.tracking.connect import configure_mlflow
    from pipelines.tracking.loading import local_folder
    from pipelines.tracking.registry import load_champion

    source_dir, _ = demo
    data_dir = tmp_path / "copied"
    shutil.copytree(source_dir, data_dir, ignore=shutil.ignore_patterns(".prefect"))
    shutil.rmtree(data_dir / "raw" / "complaints")
    ingest_flow(str(data_dir))
    settings = Settings.from_env(data_dir)
    configure_mlflow(settings)
    champion = load_champion(settings)
    model_dir = local_folder(mlflow.tracking.MlflowClient().get_model_version_download_uri(
        settings.registered_model_name, champion.version))
    assert model_dir is not None and model_dir.is_relative_to(data_dir)  # its own files
    gone = [f for f in champion.model.features if source_of(f) == "complaints"]
    shares = model_gain_shares(champion.model.classifier)
    share = sum(shares[f] for f in gone)
    try:
        scored = score_flow(str(data_dir), None)
    except ChampionMismatchError as error:
        assert share > NoDataPolicy().max_gain_share
        message = failure_message("score", error)
        assert message is not None and "the complaints source" in message
        assert "run `churn train`" in message
        return
    assert share <= NoDataPolicy().max_gain_share
    metadata = json.loads((Path(scored["run_dir"]) / "metadata.json").read_text())
    assert metadata["data_compatibility"]["status"] == "scored_with_no_data"
    assert metadata["data_compatibility"]["no_data_sources"] == ["complaints"]
    risk = pd.read_parquet(scored["risk_list_parquet"])
    cited = set(risk[["reason_group_1", "reason_group_2", "reason_group_3"]].stack())
    assert not cited & {GROUP_OF_FEATURE[f] for f in gone}
    assert "complaints set to no data" in scored["data_compatibility"]
    report = (Path(scored["run_dir"]) / "report.html").read_text()
    assert 'id="data-compatibility"' in report


def test_the_loop_through_the_flows_list_action_log_and_track_record(demo):
    """A list scored early enough for its window to have ended by the data end, its contact
    arm partly worked and logged back under raw/actions/, graded contacted against held out.
    (Runs after the other `demo` tests: it adds a backfilled list to the archive.)"""
    from features.labels import LabelSpec
    from pipelines.deliver.loop_report import archive_loop_record, loop_lines
    from pipelines.flows import ingest_flow, score_flow
    from pipelines.store.staged import load_source_tables, load_staged_actions

    data_dir, result = demo
    data_end = dt.date.fromisoformat(result["scored"]["as_of"])
    as_of = data_end - dt.timedelta(days=LabelSpec().span_days + 7)
    scored = score_flow(str(data_dir), as_of)
    listed = pd.read_csv(scored["risk_list_csv"], dtype=str, encoding="utf-8-sig",
                         keep_default_na=False)
    holdout = listed["holdout"] == "1"
    assert holdout.any() and listed.loc[holdout, "suggested_action"].str.startswith(
        "Holdout: do not contact").all()
    randomised = listed["risk_tier"].isin(["Critical", "At risk", "Watch"])
    worked = listed[~holdout & randomised].head(5).copy()
    worked["action_taken"], worked["action_cost"] = "called", "3"
    worked["action_date"] = str(as_of + dt.timedelta(days=2))
    actions = Path(data_dir) / "raw" / "actions"
    actions.mkdir(parents=True)
    worked.to_csv(actions / "worked.csv", index=False, encoding="utf-8-sig")
    ingest_flow(str(data_dir))
    settings = Settings.from_env(str(data_dir))
    logged = load_staged_actions(settings)
    assert sorted(logged["row_id"]) == sorted(worked["row_id"])
    record = archive_loop_record(settings, load_source_tables(settings), data_end, logged)
    overall = record.pooled.set_index(["tier", "planned_action"]).loc[("*", "*")]
    metadata = json.loads((Path(scored["run_dir"]) / "metadata.json").read_text())
    assert overall["holdout"] == metadata["holdout"]["held_out"]
    assert overall["holdout"] + overall["contacted"] == metadata["holdout"]["randomised"]
    assert (overall["reached"], overall["cost"]) == (5, 15.0)
    assert loop_lines(record)[0].startswith("all tiers, all actions: churn ")


def test_a_contact_capacity_flags_the_list_and_a_recorded_action_cools_down(demo):
    """After the loop test: its five logged actions put those customers in a cooldown when
    the cooldown reaches back that far; the run records where its uplift came from."""
    from pipelines.deliver.params import ScoreParams
    from pipelines.flows import score_flow
    from pipelines.store.staged import load_staged_actions

    data_dir, result = demo
    logged = load_staged_actions(Settings.from_env(str(data_dir)))
    assert logged is not None and len(logged) == 5  # from the loop test
    scored = score_flow(str(data_dir), None, ScoreParams(sort="saved_value", contact_capacity=3,
                                                         cooldown_days=400))
    listed = pd.read_csv(scored["risk_list_csv"], dtype=str, encoding="utf-8-sig",
                         keep_default_na=False)
    assert {"expected_saved_value", "contact_this_week", "cooldown_until"} <= set(listed)
    last = pd.to_datetime(logged["action_at"]).dt.tz_localize(None).dt.normalize()
    until = (last + pd.Timedelta(days=400)).dt.strftime("%Y-%m-%d")
    cooling = listed.set_index("customer_id").loc[logged["customer_id"].astype(str)]
    assert cooling["cooldown_until"].tolist() == until.tolist()
    assert (cooling["contact_this_week"] == "0").all()
    flagged = listed[listed["contact_this_week"] == "1"]
    assert len(flagged) <= 3 and (flagged["holdout"] == "0").all()
    metadata = json.loads((Path(scored["run_dir"]) / "metadata.json").read_text())
    saved = metadata["saved_value"]
    assert metadata["sort"] == "saved_value" and saved["contact_capacity"] == 3
    assert saved["uplift_source"].startswith("measured effect per tier x planned action")
    assert (saved["flagged"], saved["in_cooldown"]) == (len(flagged), 5)
    assert not saved["uplift_check"]["beats_risk_out_of_time"]
    assert any(line.startswith("Ranking by expected saved value has not (yet) beaten")
               for line in scored["saved_value_lines"])
    report = (Path(scored["run_dir"]) / "report.html").read_text()
    assert 'class="note saved-value"' in report and "Contact this week:" in report
