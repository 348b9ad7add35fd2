from __future__ import annotations

from models.promotion import PromotionMargin, promotion_decision

MARGIN = PromotionMargin()  # ROC-AUC +0.002, PR-AUC not worse


def test_first_model_is_promoted():
    decision = promotion_decision({"roc_auc": 0.6, "pr_auc": 0.3}, None, MARGIN)
    assert decision.promote and decision.reason == "no champion yet"
    assert decision.tags()["promotion_decision"] == "champion"


def test_better_model_is_promoted_with_its_numbers():
    decision = promotion_decision({"roc_auc": 0.803, "pr_auc": 0.41},
                                  {"roc_auc": 0.800, "pr_auc": 0.40}, MARGIN)
    assert decision.promote
    tags = decision.tags()
    assert tags["gate_challenger_roc_auc"] == "0.803000"
    assert tags["gate_champion_roc_auc"] == "0.800000"
    assert "+0.0030" in decision.reason


def test_small_gain_or_worse_pr_auc_is_not_promoted():
    champion = {"roc_auc": 0.800, "pr_auc": 0.40}
    too_small = promotion_decision({"roc_auc": 0.801, "pr_auc": 0.45}, champion, MARGIN)
    worse_pr = promotion_decision({"roc_auc": 0.85, "pr_auc": 0.399}, champion, MARGIN)
    worse = promotion_decision({"roc_auc": 0.70, "pr_auc": 0.30}, champion, MARGIN)
    assert not too_small.promote and not worse_pr.promote and not worse.promote
    assert worse.tags()["promotion_decision"] == "challenger"
    assert worse.reason.startswith("does not beat champion")


def test_margin_is_configurable():
    lenient = PromotionMargin(min_roc_auc_gain=-0.01, max_pr_auc_loss=0.02)
    decision = promotion_decision({"roc_auc": 0.795, "pr_auc": 0.39},
                                  {"roc_auc": 0.800, "pr_auc": 0.40}, lenient)
    assert decision.promote


def test_another_definition_gets_both_figures_and_a_verdict_but_is_never_promoted():
    from models.promotion import other_definition_decision

    better = other_definition_decision(
        {"roc_auc": 0.80, "pr_auc": 0.50}, {"roc_auc": 0.70, "pr_auc": 0.40}, PromotionMargin(),
        challenger_label="no_purchase, 30-day horizon",
        champion_label="no_purchase, 90-day horizon", champion_version="3", version="5")
    assert not better.promote and "it would beat the champion: ROC-AUC 0.8000 vs 0.7000" \
        in better.reason and better.reason.endswith("`churn promote 5`")
    assert better.tags()["gate_champion_roc_auc"] == "0.700000"
    worse = other_definition_decision(
        {"roc_auc": 0.60, "pr_auc": 0.30}, {"roc_auc": 0.70, "pr_auc": 0.40}, PromotionMargin(),
        challenger_label="a", champion_label="b", champion_version="3", version="5")
    assert "would not beat" in worse.reason


def test_missing_features_are_those_a_frame_lacks_in_the_model_order():
    from models.promotion import missing_features

    assert missing_features(["a", "b", "c"], ["c", "a"]) == ["b"]
    assert missing_features(["a"], ["a", "z"]) == []
