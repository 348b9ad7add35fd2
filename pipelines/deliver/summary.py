"""The run summary of a scoring run in the run's language: the lines `churn score` prints
after the top customers and `report.md` (also the Prefect markdown artifact). No IO.

Paths, run ids, customer ids and model versions are shown as they are; numbers use the
language's separators (pipelines.deliver.i18n.format_number), dates stay ISO as in the CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipelines.deliver.i18n import (
    Count,
    column_label,
    format_number,
    report_label,
    summary_label,
    tier_label,
)

if TYPE_CHECKING:
    import pandas as pd

NEW_IDS_SHOWN = 10


def tier_counts_text(tiers: dict[str, int], lang: str) -> str:
    """`Critical 338 · At risk 97 · …` in policy order, tier names in `lang`."""
    return " · ".join(f"{tier_label(t, lang)} {format_number(n, lang)}" for t, n in tiers.items())


def ids_text(ids: list[str], lang: str, shown: int = NEW_IDS_SHOWN) -> str:
    """The first `shown` ids, then how many more there are."""
    text = ", ".join(ids[:shown])
    if len(ids) > shown:
        text += f" ({summary_label('and_more', lang, n=len(ids) - shown)})"
    return text


def changes_lines(changes: dict[str, Any], lang: str, shown: int = NEW_IDS_SHOWN,
                  policy_order: list[str] | None = None) -> list[str]:
    """Who entered or left the top tiers since the previous archived run, and who is new in
    the most urgent tier; one line saying there is nothing to compare on a first run. Top
    tiers are named in `policy_order` (most urgent first) when given."""
    if not changes.get("previous_run"):
        return [summary_label("first_run", lang)]
    order = policy_order or []
    top = sorted(changes["top_tiers"], key=lambda t: order.index(t) if t in order else len(order))
    critical = tier_label(changes["critical_tier"], lang)
    lines = [summary_label(
        "changes", lang, previous=changes["previous_run"],
        entered=Count(len(changes["entered_top"]), "customer"),
        left=Count(len(changes["left_top"]), "customer"),
        top_tiers=" / ".join(tier_label(t, lang) for t in top),
        new=len(changes["new_critical"]), critical=critical)]
    if changes["new_critical"]:
        lines.append(summary_label("new_in_tier", lang, tier=critical,
                                   ids=ids_text(changes["new_critical"], lang, shown)))
    if changes.get("lapsed_tier"):
        lines.append(summary_label("newly_lapsed", lang, n=len(changes.get("new_lapsed", [])),
                                   tier=tier_label(changes["lapsed_tier"], lang)))
    return lines


def value_total_line(result: dict[str, Any], lang: str) -> str:
    """The total value at risk, and the lapsed (win-back) tier's share when the policy has one."""
    value = format_number(result["value_at_risk_total"], lang)
    lapsed = (result.get("changes") or {}).get("lapsed_tier")
    # at the default threshold (over 365 days silent) a lapsed customer's yearly run-rate, and
    # so their value at risk, is 0: a share that is always "of which 0" only adds noise
    if not lapsed or not result.get("value_at_risk_lapsed"):
        return summary_label("value_total", lang, value=value)
    return summary_label("value_total_lapsed", lang, value=value, tier=tier_label(lapsed, lang),
                         lapsed_value=format_number(result.get("value_at_risk_lapsed", 0), lang))


def holdout_lines(holdout: dict[str, Any] | None, lang: str) -> list[str]:
    """The run's holdout in one line (none for a run without one)."""
    if not holdout:
        return []
    return [report_label("holdout", lang) + ": " + report_label(
        "holdout_rule", lang, held=holdout["held_out"], randomised=holdout["randomised"],
        carried=holdout["carried_over_held_out"], seed=holdout["seed"])]


def run_summary_lines(result: dict[str, Any], lang: str) -> list[str]:
    """What the terminal prints under the top customers: tiers, total value at risk, changes
    and the holdout."""
    return [summary_label("tiers", lang, counts=tier_counts_text(result["tiers"], lang)),
            value_total_line(result, lang),
            *changes_lines(result.get("changes") or {}, lang, policy_order=list(result["tiers"])),
            *holdout_lines(result.get("holdout"), lang),
            *result.get("saved_value_lines", [])]  # expected saved value, contact flags


def _md_row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def summary_markdown(risk: pd.DataFrame, metadata: dict[str, Any], top_n: int = 10) -> str:
    """A short human-readable summary of one scoring run in its language (report.md)."""
    lang = metadata.get("lang", "en")
    validation = metadata.get("model_validation", {})
    lines = [
        f"# {summary_label('title', lang, as_of=metadata['as_of'])}",
        "",
        "- " + summary_label("model", lang, version=metadata["model_version"],
                             run_id=metadata["model_run_id"]),
        f"- {report_label('churn_definition', lang)}: {metadata['churn_definition']}",
        "- " + summary_label("scored", lang, n=int(metadata["customers_scored"])),
        "- " + value_total_line(metadata, lang),
    ]
    lines += [f"- {line}" for line in changes_lines(metadata["changes"], lang, shown=20,
                                                    policy_order=list(metadata["tiers"]))]
    lines += [f"- {line}" for line in holdout_lines(metadata.get("holdout"), lang)]
    lines += [f"- {line}" for line in metadata.get("saved_value_lines", [])]
    if validation:
        metric = lambda key, decimals: format_number(  # noqa: E731
            validation.get(key, float("nan")), lang, decimals)
        lines.append("- " + summary_label("validation", lang, roc_auc=metric("roc_auc", 3),
                                          pr_auc=metric("pr_auc", 3),
                                          lift=metric("top_decile_lift", 2)))
    lines += ["", _md_row([report_label("tier", lang), report_label("customers", lang)]),
              "|---|---|"]
    lines += [_md_row([tier_label(t, lang), format_number(n, lang)])
              for t, n in metadata["tiers"].items()]
    header = [column_label("rank", lang), column_label("customer_id", lang),
              column_label("churn_probability", lang), column_label("value_at_risk", lang),
              column_label("risk_tier", lang), summary_label("main_reason", lang),
              column_label("suggested_action", lang)]
    lines += ["", f"## {summary_label('top_heading', lang, n=top_n)}", "", _md_row(header),
              "|---" * len(header) + "|"]
    for row in risk.head(top_n).itertuples():
        lines.append(_md_row([row.rank, row.customer_id,
                              format_number(row.churn_probability, lang, 2),
                              format_number(row.value_at_risk, lang),
                              tier_label(row.risk_tier, lang), row.reason_1,
                              row.suggested_action]))
    return "\n".join(lines) + "\n"
