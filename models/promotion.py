"""The champion/challenger gate: when a newly trained model may replace the champion."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import BaseModel, Field


class PromotionMargin(BaseModel):
    """How much better a challenger must be, on the same out-of-time customers."""

    min_roc_auc_gain: float = Field(0.002, description="ROC-AUC must rise by at least this.")
    max_pr_auc_loss: float = Field(0.0, ge=0, description="PR-AUC may fall by at most this.")


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    challenger: dict[str, float]
    champion: dict[str, float] | None
    basis: str = ""  # how the champion's figures were obtained (recorded, rescored, none)

    def tags(self) -> dict[str, str]:
        """The decision and its numbers, as registry version tags."""
        tags = {"promotion_decision": "champion" if self.promote else "challenger",
                "promotion_reason": self.reason}
        for who, metrics in (("challenger", self.challenger), ("champion", self.champion)):
            for key, value in (metrics or {}).items():
                tags[f"gate_{who}_{key}"] = f"{value:.6f}"
        return tags

    def with_basis(self, basis: str) -> PromotionDecision:
        return replace(self, basis=basis)


def _comparison(challenger: dict[str, float], champion: dict[str, float],
                margin: PromotionMargin) -> tuple[bool, str]:
    """Whether the challenger clears both margins, and the numbers that say so."""
    roc_gain = challenger["roc_auc"] - champion["roc_auc"]
    pr_change = challenger["pr_auc"] - champion["pr_auc"]
    numbers = (f"ROC-AUC {challenger['roc_auc']:.4f} vs {champion['roc_auc']:.4f} "
               f"({roc_gain:+.4f}, needs {margin.min_roc_auc_gain:+.4f}); "
               f"PR-AUC {challenger['pr_auc']:.4f} vs {champion['pr_auc']:.4f} "
               f"({pr_change:+.4f}, may fall {margin.max_pr_auc_loss:.4f})")
    return roc_gain >= margin.min_roc_auc_gain and pr_change >= -margin.max_pr_auc_loss, numbers


def promotion_decision(
    challenger: dict[str, float], champion: dict[str, float] | None, margin: PromotionMargin
) -> PromotionDecision:
    """Promote if there is no champion, or the challenger clears both margins."""
    if champion is None:
        return PromotionDecision(True, "no champion yet", challenger, None)
    ok, numbers = _comparison(challenger, champion, margin)
    return PromotionDecision(ok, ("beats champion: " if ok else "does not beat champion: ")
                             + numbers, challenger, champion)


def other_definition_decision(
    challenger: dict[str, float], champion: dict[str, float], margin: PromotionMargin, *,
    challenger_label: str, champion_label: str, champion_version: str, version: str,
) -> PromotionDecision:
    """A challenger for another churn definition, compared with the champion on the same
    customers under the challenger's labels: the figures and the verdict, never a promotion.

    What "churned" means is a business decision: a training run with other label settings (a
    changed deployment, a typo) must not switch it on its own, however good it is.
    """
    ok, numbers = _comparison(challenger, champion, margin)
    verdict = "would beat" if ok else "would not beat"
    return PromotionDecision(
        False, f"predicts another churn definition ({challenger_label}) than champion version "
        f"{champion_version} ({champion_label}); on the same customers under this model's "
        f"labels it {verdict} the champion: {numbers}; the gate never changes the "
        f"definition: promote by hand with `churn promote {version}`", challenger, champion)


def missing_features(features: list[str], columns: list[str]) -> list[str]:
    """The features a model needs that a frame lacks (empty: the model can score it)."""
    present = set(columns)
    return [name for name in features if name not in present]
