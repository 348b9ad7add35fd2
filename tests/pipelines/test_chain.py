"""`churn run`'s flow: ingest → train if due → score, then again on unchanged data."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.store.settings import Settings

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def chain(prefect_api, tmp_path_factory):
    from models.params import TrainParams
    from pipelines.flows import weekly_flow
    from pipelines.sample.generate import generate_and_write

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        data_dir = tmp_path_factory.mktemp("chain") / "data"
        settings = Settings.from_env(data_dir)
        generate_and_write(settings, customers=400, seed=5)
        params = TrainParams(n_cutoffs=4, max_boost_rounds=60, min_positives=20,
                             min_negatives=20)
        first = weekly_flow(str(data_dir), params=params)
        staged_version = settings.staged_dir.resolve()
        second = weekly_flow(str(data_dir), params=params)
        yield {"data_dir": data_dir, "settings": settings, "params": params, "first": first,
               "second": second, "staged_version": staged_version}


def test_first_run_trains_because_there_is_no_champion_and_scores(chain):
    first = chain["first"]
    assert first["retrain"] == {"due": True, "reason": "no champion model yet"}
    assert first["trained"]["promoted"] and first["trained"]["model_version"] == "1"
    risk = pd.read_csv(first["scored"]["risk_list_csv"], dtype={"customer_id": str},
                       encoding="utf-8-sig")
    assert len(risk) == first["scored"]["customers_scored"] > 0
    assert (risk["model_version"].astype(str) == "1").all()
    assert set(first["seconds"]) == {"ingest", "train", "score"}


def test_second_run_on_unchanged_data_reuses_staging_and_does_not_train(chain):
    second, settings = chain["second"], chain["settings"]
    assert second["ingested"]["cached"] and second["ingested"]["unchanged"]
    assert settings.staged_dir.resolve() == chain["staged_version"]  # not re-staged
    assert second["trained"] is None and not second["retrain"]["due"]
    assert "champion version 1 is kept" in second["retrain"]["reason"]
    assert second["scored"]["run_dir"] != chain["first"]["scored"]["run_dir"]


def test_forced_retrain_reuses_the_model_input_snapshot(chain):
    from pipelines.flows import weekly_flow
    from pipelines.tasks import model_input_path

    settings, params = chain["settings"], chain["params"]
    as_of = pd.Timestamp(chain["first"]["as_of"]).date()
    snapshot = model_input_path(settings, as_of, params.label)
    written = snapshot.stat().st_mtime_ns
    forced = weekly_flow(str(chain["data_dir"]), retrain=True, params=params)
    assert forced["retrain"] == {"due": True, "reason": "forced by --retrain"}
    assert forced["trained"]["model_version"] == "2"
    assert snapshot.stat().st_mtime_ns == written  # cached: the snapshot was not rebuilt


def test_a_second_chain_on_the_same_data_dir_is_refused_while_one_runs(chain):
    from pipelines.operate.lock import RunInProgressError, one_run_at_a_time

    with one_run_at_a_time(chain["data_dir"]):
        with pytest.raises(RunInProgressError, match="another `churn run`"):
            with one_run_at_a_time(chain["data_dir"]):
                pass


def test_run_lines_name_each_step(chain):
    from pipelines.console import chain_lines

    first, second = chain_lines(chain["first"]), chain_lines(chain["second"])
    assert [line.split()[0] for line in first] == ["ingest", "train", "score", "monitor"]
    assert second[3] == "monitor stable; alerts: none"  # same data, same model: no drift
    assert "due (no champion model yet)" in first[1]
    assert "raw files unchanged" in second[0] and "not due" in second[1]
    assert chain["second"]["scored"]["risk_list_csv"] in second[2]


def test_after_a_turned_down_challenger_the_drift_rule_waits_instead_of_retraining(chain):
    # a gate no challenger passes: a forced retrain registers a version that stays
    # challenger; then a drift threshold every population crosses: the next run, on the same
    # data, waits for the data to move on instead of training the same model again
    # (models.retrain)
    import json
    from pathlib import Path

    from models.monitoring import MonitoringPolicy
    from models.promotion import PromotionMargin
    from pipelines.deliver.params import ScoreParams
    from pipelines.flows import weekly_flow

    never = PromotionMargin(min_roc_auc_gain=1.0)
    tried = weekly_flow(str(chain["data_dir"]), retrain=True, params=chain["params"],
                        margin=never)
    assert tried["trained"] is not None and not tried["trained"]["promoted"]
    version = tried["trained"]["model_version"]
    jumpy = ScoreParams(monitoring=MonitoringPolicy(psi_drift=1e-9))
    waited = weekly_flow(str(chain["data_dir"]), params=chain["params"], margin=never,
                         score_params=jumpy)
    assert waited["trained"] is None and not waited["retrain"]["due"]
    reason = waited["retrain"]["reason"]
    assert reason.startswith("the score drifted")
    assert (f"not retrained again yet: version {version}, trained on the data to "
            f"{tried['as_of']} (trained for: forced by --retrain), did not become champion"
            ) in reason
    # the scoring run's own monitoring says the same (no retrain banner, no alert)
    monitoring = json.loads((Path(waited["scored"]["run_dir"]) / "monitoring.json").read_text())
    assert monitoring["retrain"] == waited["retrain"]
