"""The typed parameters of training and tuning, with every default declared once.

Light on purpose (pydantic and the churn definition only): the CLI takes its option defaults
from these models at import time, and `churn --help` must stay instant. `prefect.yaml`
deployments override only what they change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from features.catalog import FEATURE_WINDOWS_DAYS
from features.labels import LabelSpec

if TYPE_CHECKING:
    from models.evaluate import RetentionAssumptions

SMALL_DATA_ROWS = 100_000
# The shortest history a cutoff needs behind it, whatever the horizon: the 90-day windows
# (orders_90d, spend_90d, complaints_90d, the 90-day surprise and change features) carry the
# model's main signals, and a cutoff closer than that to the start of the data sees every
# customer's 90-day counts cut short. The 30-day window alone says too little; the 180- and
# 365-day ones (and the own usual rate) are still computed, left short or empty, which the
# model reads as "new customer".
MIN_FEATURE_HISTORY_DAYS = FEATURE_WINDOWS_DAYS[1]
# The model's size rule (models.train.parsimonious_trees), measured by bench/model_size.py
# (README "Benchmark figures"): past the fewest trees within 0.2 % of the best out-of-time log
# loss, more trees buy almost no AUC and cost TreeSHAP time on every scored customer (0.2 %
# gave up at most 0.0004 ROC-AUC and 0.0006 PR-AUC at 5k, 20k and 50k customers; 0.5 % twice
# that at 50k). MAX_TREES is a bound, not an optimum: the best iteration was 502 at 50k, and
# at 1.7 us per row per tree, 600 trees explain a million customers in about 17 CPU minutes.
SIZE_TOLERANCE = 0.002
MAX_TREES = 600
TuningObjective = Literal["pr_auc", "log_loss"]
# How a risk list is ranked (models.score.SORT_COLUMNS says what each means).
SortKey = Literal["tier", "value", "probability", "saved_value"]
# `churn score --cooldown-days`: nobody is called again within four weeks of a recorded action.
COOLDOWN_DAYS = 28


class ActionSaveRate(BaseModel):
    """The save rate in force for one planned action and where it comes from (measured on the
    holdouts, with its customers and interval, or the assumption)."""

    save_rate: float = Field(ge=0, le=1)
    source: str


class TrainParams(BaseModel):
    """Business and model parameters of a training run (typed flow parameters).

    Classes are not re-weighted: weighting would distort the probabilities that calibration
    and the retained-value metric rely on; ranking metrics (PR-AUC, lift) handle imbalance.
    """

    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error

    label: LabelSpec = Field(default_factory=LabelSpec,
                             description="The churn definition and its label window.")
    choose_definition: bool = Field(
        False, description="Choose the churn definition from the data (a contractual "
        "business: renewal; else no_purchase) instead of `label.definition`.")
    force: bool = Field(False, description="Train even when the labels contradict the data "
                        "(features.label_checks); the contradiction is still reported.")
    n_cutoffs: int = Field(8, ge=2, description="Monthly cutoffs in the model input.")
    cutoff_step_days: int = Field(30, ge=7)
    min_history_days: int | None = Field(
        None, ge=0, description="Cutoffs start this long after the first purchase in the data. "
        "None: derived, see `history_days`.")
    event_types_top_n: int = Field(
        20, ge=0, description="Interaction types learned from the data as engagement "
        "features (the most frequent N, rarer ones pooled into 'other'); 0 = off.")
    min_positives: int = Field(100, ge=1, description="Refuse to train with fewer churners.")
    min_negatives: int = Field(100, ge=1, description="Refuse to train with fewer stayers.")
    learning_rate: float = 0.03
    # The leaves bound: TreeSHAP, the costliest part of scoring, grows with trees x leaves.
    num_leaves: int = 15
    min_child_samples: int = 50
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_boost_rounds: int = Field(
        2000, ge=1, description="The probe's boosting ceiling before `max_trees` applies (the "
        "probe boosts the smaller of the two).")
    early_stopping_rounds: int = 100
    max_trees: int = Field(
        MAX_TREES, ge=1, description="Hard cap on the model's trees; the probe boosts no "
        "further, so training and scoring cost grow no faster than the data (models.train).")
    size_tolerance: float = Field(
        SIZE_TOLERANCE, ge=0, description="Keep the fewest trees whose out-of-time validation "
        "log loss is within this share of the best (0.002 = 0.2 %); 0 = the best iteration.")
    seed: int = 7
    n_jobs: int = Field(
        0, description="LightGBM threads; -1 all cores; 0 auto: 1 below 100k rows (threads "
        "cost more than they save on small data, especially on shared cores), else all.")
    calibration_folds: int = Field(5, ge=2, description="Folds for out-of-fold calibration.")
    backtest_origins: int = Field(3, ge=1, description="Latest cutoffs used as backtest origins.")
    save_rate: float = Field(0.2, ge=0, le=1, description="Share of contacted churners kept.")
    save_rate_source: str = Field(
        "assumed", description="Where `save_rate` comes from: the assumption, or the holdout "
                               "comparison of matured lists (README 'Closing the loop').")
    action_save_rates: dict[str, ActionSaveRate] = Field(
        default_factory=dict, description="The save rate in force per planned action (the "
        "playbook's): measured once its arms have MIN_CUSTOMERS_PER_ARM customers, else the "
        "assumption; empty until `churn track-record` wrote save_rates.json.")
    contact_cost: float = Field(0.0, ge=0, description="Cost of one contact, in spend units.")

    @property
    def history_days(self) -> int:
        """Days of data a cutoff needs behind it: `min_history_days` when set, else the longer
        of the 90-day feature window (MIN_FEATURE_HISTORY_DAYS) and the label's gap + horizon.

        The label span counts because a cutoff's features should look back at least as far
        as its label looks ahead: judging a 120-day silence needs 120 days of seen buying.
        With a 30-day horizon a cutoff needs 90 days; with the default 90 days, 90; with
        90 + a 30-day gap, 120. Fewer cutoffs fit short data; the pipeline says so.
        """
        if self.min_history_days is not None:
            return self.min_history_days
        return max(MIN_FEATURE_HISTORY_DAYS, self.label.span_days)

    def lightgbm_params(self, rows: int | None = None) -> dict[str, Any]:
        threads = self.n_jobs or (1 if rows is not None and rows < SMALL_DATA_ROWS else -1)
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "colsample_bytree": self.feature_fraction,
            "subsample": self.bagging_fraction,
            "subsample_freq": 1,
            "reg_lambda": self.lambda_l2,
            "random_state": self.seed,
            "n_jobs": threads,
            "verbose": -1,
        }

    def retention(self) -> RetentionAssumptions:
        # imported here: this module is light on purpose (the CLI reads its defaults)
        from models.evaluate import RetentionAssumptions

        return RetentionAssumptions(save_rate=self.save_rate, contact_cost=self.contact_cost)


class TuningParams(BaseModel):
    """An optional hyper-parameter search on the temporal backtest before training."""

    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error

    trials: int = Field(0, ge=0, description="Optuna trials; 0 = use the default parameters.")
    objective: TuningObjective = Field(
        "pr_auc", description="pr_auc (out-of-time PR-AUC, maximised) or log_loss (minimised).")
