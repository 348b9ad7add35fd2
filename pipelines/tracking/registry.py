"""The model registry edge: loading versions, the champion/challenger gate, promote, rollback.

The champion history is a JSON list in the registered model's `champion_history` tag
(newest last), and each version that became champion carries `champion_since`; together with
the model version and run id in every scoring run's metadata, any risk list traces to its model.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from mlflow.tracking import MlflowClient

from features.labels import LabelSpec
from models.compatibility import NoDataPolicy, model_gain_shares
from models.evaluate import classification_metrics
from models.promotion import (
    PromotionDecision,
    PromotionMargin,
    missing_features,
    other_definition_decision,
    promotion_decision,
)
from models.train import LABEL, FittedChurnModel
from pipelines.store.settings import Settings
from pipelines.tracking.loading import META_ARTIFACT as META_ARTIFACT
from pipelines.tracking.loading import load_version_files
from pipelines.tracking.problems import ModelStoreError

CHAMPION = "champion"
CHALLENGER = "challenger"
RELIABILITY_TABLE = "tables/reliability.json"  # logged by pipelines.tracking.runs
HISTORY_TAG = "champion_history"
HISTORY_KEEP = 200
# The label spec's fields under the MLflow param names runs have always used (flat, so runs
# stay comparable in the MLflow UI across versions).
LABEL_PARAMS = {"definition": "churn_definition", "horizon_days": "horizon_days",
                "gap_days": "gap_days"}


class NoChampionError(LookupError):
    """No registered model version carries the champion alias yet."""


class RegistryError(ValueError):
    """A promote/rollback request the registry cannot carry out."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def label_params(spec: LabelSpec) -> dict[str, object]:
    """The label spec as flat MLflow params: `churn_definition`, `horizon_days`, `gap_days`."""
    return {param: getattr(spec, name) for name, param in LABEL_PARAMS.items()}


def label_from_params(params: dict[str, str]) -> LabelSpec:
    """The label spec a training run logged as params (a missing one takes its default)."""
    return LabelSpec.model_validate(
        {name: params[param] for name, param in LABEL_PARAMS.items() if param in params})


@dataclass(frozen=True)
class RegisteredModel:
    """A registered version rebuilt for scoring, with what its training run recorded."""

    model: FittedChurnModel
    version: str
    run_id: str
    meta: dict[str, Any]  # the run's churn_model_meta.json (valid cutoff, baselines, ...)


def load_model_version(settings: Settings, version: str) -> RegisteredModel:
    """A registered version rebuilt with its metadata and calibrator; a version whose files
    cannot serve raises `ModelStoreError` saying what is wrong and what to run."""
    try:
        loaded = load_version_files(settings, version)
    except ModelStoreError as error:
        raise ModelStoreError(f"{error}; {remedy(settings, version)}") from error.__cause__
    return RegisteredModel(loaded.model, str(version), loaded.run_id, loaded.meta)


def remedy(settings: Settings, broken: str) -> str:
    """What to run when version `broken` cannot serve: train a new one, or serve another."""
    fix = "run `churn train` to register a new version"
    try:
        stack = champion_stack(champion_history(settings))
        versions = sorted({str(v.version) for v in MlflowClient().search_model_versions(
            f"name='{settings.registered_model_name}'")} - {str(broken)}, key=int)
    except (mlflow.exceptions.MlflowException, ValueError, IndexError):
        return fix
    if len(stack) >= 2 and stack[-1] == str(broken) and stack[-2] != str(broken):
        return f"{fix}, or `churn rollback` to serve version {stack[-2]} again"
    if versions:
        return f"{fix}, or `churn promote {versions[-1]}` to serve version {versions[-1]}"
    return fix


def champion_version(settings: Settings) -> str | None:
    try:
        return str(MlflowClient().get_model_version_by_alias(
            settings.registered_model_name, CHAMPION).version)
    except mlflow.exceptions.MlflowException:
        return None


def load_champion(settings: Settings) -> RegisteredModel:
    """The version carrying the champion alias, rebuilt with its training metadata."""
    version = champion_version(settings)
    if version is None:
        raise NoChampionError(no_champion_text(settings))
    return load_model_version(settings, version)


def no_champion_text(settings: Settings) -> str:
    """Why there is no champion to load, and what to run: train, or promote a version."""
    name = settings.registered_model_name
    try:
        versions = sorted((str(v.version) for v in MlflowClient().search_model_versions(
            f"name='{name}'")), key=int)
    except mlflow.exceptions.MlflowException:
        versions = []
    where = f"in {settings.mlflow_tracking_uri}"
    if not versions:
        return f"no model is registered as {name} {where} yet; run `churn train` first"
    return (f"no version of {name} {where} is the champion (registered: "
            f"{', '.join(versions)}); run `churn promote {versions[-1]}` to serve one, or "
            "`churn train`")


def version_label(settings: Settings, version: str) -> LabelSpec:
    """The churn definition a registered version was trained for (from its run's params)."""
    client = MlflowClient()
    run_id = client.get_model_version(settings.registered_model_name, version).run_id
    return label_from_params(client.get_run(run_id).data.params) if run_id else LabelSpec()


def champion_history(settings: Settings) -> list[dict[str, str]]:
    model = MlflowClient().get_registered_model(settings.registered_model_name)
    return json.loads(model.tags.get(HISTORY_TAG, "[]"))


def set_champion(settings: Settings, version: str, how: str, reason: str) -> None:
    """Move the champion alias to `version` and append the change to the history."""
    client, name = MlflowClient(), settings.registered_model_name
    client.get_model_version(name, version)  # raises for an unknown version
    history = champion_history(settings)
    history.append({"version": str(version), "since": _now(), "how": how, "reason": reason})
    client.set_registered_model_alias(name, CHAMPION, str(version))
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-HISTORY_KEEP:]))
    client.set_model_version_tag(name, str(version), "champion_since", history[-1]["since"])
    client.set_model_version_tag(name, str(version), "became_champion_because",
                                 f"{how}: {reason}")


def champion_metrics_on(
    settings: Settings, champion: str, valid: pd.DataFrame, valid_cutoff: str, data_sha: str,
    label: LabelSpec,
) -> tuple[dict[str, float] | None, str]:
    """The champion's ROC-AUC and PR-AUC on the challenger's out-of-time customers, judged
    against the challenger's labels (`valid`, made under `label`).

    When the champion was validated on the same cutoff of the same model input (same hash,
    same number of customers) with the same churn definition and window, its recorded
    out-of-time numbers are that comparison, and a fair one: its validation model never saw
    those labels (its registered refit did). Otherwise (a different definition means different
    labels, other model input other customers: its recorded numbers answer another question)
    the registered champion scores the rows now, if its features are all among their columns;
    if it was trained on that cutoff the basis says so, since the comparison then favours the
    champion and only makes the gate stricter. When it cannot score them the metrics are None
    and the basis starts with "cannot compare".
    """
    client = MlflowClient()
    run_id = client.get_model_version(settings.registered_model_name, champion).run_id
    if run_id is None:  # a version registered from outside a run: nothing recorded to compare
        return None, f"champion version {champion} has no training run to compare with"
    run = client.get_run(run_id)
    tags, metrics, params = run.data.tags, run.data.metrics, run.data.params
    champion_label = label_from_params(params)
    same_label = champion_label == label
    if (same_label and tags.get("valid_cutoff") == valid_cutoff
            and tags.get("model_input_sha256") == data_sha
            and metrics.get("oot_n") == len(valid) and "oot_roc_auc" in metrics):
        return ({"roc_auc": metrics["oot_roc_auc"], "pr_auc": metrics["oot_pr_auc"]},
                f"recorded out-of-time metrics on the same cutoff, churn definition, model "
                f"input and {len(valid)} customers")
    try:
        model = load_version_files(settings, champion).model
    except ModelStoreError as error:  # a broken champion must not block its successor
        return None, f"cannot compare: {error}"
    lacking = missing_features(model.features, list(valid.columns))
    no_data = ""
    if lacking:
        # What the champion would do on these data when scoring (models.compatibility): with
        # the features they lack as no data, if it may do without them.
        share = sum(model_gain_shares(model.classifier).get(f, 0.0) for f in lacking)
        if share > NoDataPolicy().max_gain_share:
            shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more"
                                              if len(lacking) > 5 else "")
            return None, (f"cannot compare: champion version {champion} needs features this "
                          f"model's validation customers lack ({shown})")
        valid = valid.assign(**{f: np.nan for f in lacking})
        no_data = (f", with the {len(lacking)} features they lack as no data, as it would "
                   f"score them now ({share:.0%} of its gain)")
    try:
        probability = model.predict_probability(valid)
    except (KeyError, ValueError) as error:
        return None, f"cannot compare: champion version {champion} cannot score these " \
                     f"customers ({error})"
    scored = classification_metrics(valid[LABEL].to_numpy(int), np.asarray(probability))
    seen = valid_cutoff in params.get("cutoffs", "").split(",")
    other = "" if same_label else (
        f" against this model's churn definition ({_label_text(label)}; the champion's is "
        f"{_label_text(champion_label)})")
    return ({k: scored[k] for k in ("roc_auc", "pr_auc")},
            f"champion rescored on cutoff {valid_cutoff} ({len(valid)} customers){no_data}"
            f"{other}"
            + (f" (it was trained on {'these labels' if same_label else 'this cutoff'}, which "
               "favours it)" if seen else ""))


def _label_text(spec: LabelSpec) -> str:
    return (f"{spec.definition}, {spec.horizon_days}-day horizon"
            + (f", {spec.gap_days}-day gap" if spec.gap_days else ""))


def gate_new_version(
    settings: Settings, version: str, fitted: FittedChurnModel, data_sha: str,
    margin: PromotionMargin,
) -> PromotionDecision:
    """Name the new version challenger; make it champion if it clears the gate."""
    client, name = MlflowClient(), settings.registered_model_name
    client.set_registered_model_alias(name, CHALLENGER, version)
    challenger = {k: fitted.validation[k] for k in ("roc_auc", "pr_auc")}
    current = champion_version(settings)
    if current is None:
        decision = promotion_decision(challenger, None, margin)
        basis = "first model"
    else:
        valid = fitted.evaluation.valid if fitted.evaluation else pd.DataFrame()
        champion, basis = champion_metrics_on(settings, current, valid,
                                              str(fitted.valid_cutoff), data_sha, fitted.label)
        champion_label = version_label(settings, current)
        if champion is None:
            decision = PromotionDecision(
                False, f"{basis}; compare the two by hand (score both on the same customers) "
                f"and run `churn promote {version}` to serve this one", challenger, None)
        elif champion_label != fitted.label:
            decision = other_definition_decision(
                challenger, champion, margin, challenger_label=_label_text(fitted.label),
                champion_label=_label_text(champion_label), champion_version=current,
                version=version)
        else:
            decision = promotion_decision(challenger, champion, margin)
    decision = decision.with_basis(basis)
    compared_on = (f"{len(fitted.evaluation.valid) if fitted.evaluation else 0} out-of-time "
                   f"customers of cutoff {fitted.valid_cutoff} under this model's labels "
                   f"({_label_text(fitted.label)})")
    for key, value in {**decision.tags(), "gate_basis": basis, "gate_compared_on": compared_on,
                       "gate_champion_version": current or ""}.items():
        client.set_model_version_tag(name, version, key, value)
    if decision.promote:
        set_champion(settings, version, "gate", decision.reason)
    return decision


def promote(settings: Settings, version: str, reason: str) -> None:
    """A person makes `version` the champion, if its files can serve."""
    _require_servable(settings, version, "promote")
    try:
        set_champion(settings, version, "promote", reason)
    except mlflow.exceptions.MlflowException as error:
        raise RegistryError(f"cannot promote version {version}: {error.message}") from None


def _require_servable(settings: Settings, version: str, action: str) -> None:
    """Refuse to make a version champion whose files cannot be loaded (scoring would only
    fail later, with the old champion already replaced)."""
    try:
        load_version_files(settings, version)
    except ModelStoreError as error:
        raise RegistryError(f"cannot {action} version {version}: {error}; serve another "
                            "version or run `churn train`") from None


def champion_stack(history: list[dict[str, str]]) -> list[str]:
    """Champions in force, oldest first: promotions push, rollbacks pop."""
    stack: list[str] = []
    for entry in history:
        if entry["how"] == "rollback":
            stack.pop()
        else:
            stack.append(entry["version"])
    return stack


def rollback(settings: Settings) -> str:
    """Make the champion before the current one the champion again; the version now serving."""
    stack = champion_stack(champion_history(settings))
    if len(stack) < 2:
        raise RegistryError("no earlier champion to roll back to")
    _require_servable(settings, stack[-2], "roll back to")
    set_champion(settings, stack[-2], "rollback", f"rolled back from version {stack[-1]}")
    return stack[-2]


def training_reliability(run_id: str) -> pd.DataFrame | None:
    """`predicted, observed` per bin of a training run's out-of-time reliability table
    (None when the run has none)."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=RELIABILITY_TABLE, dst_path=folder)
            payload = json.loads(Path(path).read_text())
        table = pd.DataFrame(payload["data"], columns=payload["columns"])
    except (mlflow.exceptions.MlflowException, OSError, ValueError, KeyError, TypeError):
        return None
    needed = {"mean_predicted", "observed_rate", "customers"}
    if table.empty or not needed <= set(table.columns):
        return None
    used = table[table["customers"] > 0]
    return pd.DataFrame({"predicted": used["mean_predicted"].to_numpy(),
                         "observed": used["observed_rate"].to_numpy()})


def training_snapshot(settings: Settings, run_id: str, columns: list[str] | None = None
                      ) -> pd.DataFrame | None:
    """The model-input snapshot a training run was fitted on (only `columns`, those present,
    where given: the whole of 8 cutoffs of a million customers is 2 GB), while it is still
    in the data dir (None once it was removed, or for a run that did not record its file)."""
    try:
        name = mlflow.get_run(run_id).data.params.get("model_input_file")
    except mlflow.exceptions.MlflowException:
        return None
    path = settings.model_input_dir / name if name else None
    if path is None or not path.exists():
        return None
    if columns is not None:
        present = set(pq.ParquetFile(path).schema_arrow.names)
        columns = [c for c in columns if c in present]
    return pd.read_parquet(path, columns=columns)
