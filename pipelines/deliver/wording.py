"""The risk list in the retention team's language: the model's reason and action keys
rendered as sentences.

`models.score.score_customers` returns keys with the numbers they quote and no text; this is
where they become English, Turkish or Dutch, so one scored list can be written in any
language and a new language only adds a catalog (`pipelines.deliver.catalogs`).
"""

from __future__ import annotations

import pandas as pd
from pandera.typing import Series

from models.explain import REASONS_SHOWN
from models.score import SCORED_COLUMNS, ScoredCustomers
from pipelines.deliver.i18n import render_action, render_reason

REASON_TEXT_COLUMNS = [f"reason_{i}" for i in range(1, REASONS_SHOWN + 1)]
KEY_PARAMS = [f"reason_params_{i}" for i in range(1, REASONS_SHOWN + 1)] + ["action_params"]


class RiskList(ScoredCustomers):
    """The risk list as the team reads it: the scored columns plus three reasons and the
    suggested action as sentences in the run's language (key: `customer_id`)."""

    reason_1: Series[str]
    reason_2: Series[str]
    reason_3: Series[str]
    suggested_action: Series[str]


# The exported columns, in the order of the CSV and the workbook: the sentences sit between
# what we know about the customer and the run's stamps.
_STAMPS = SCORED_COLUMNS.index("data_as_of")
RISK_LIST_COLUMNS = [*SCORED_COLUMNS[:_STAMPS], *REASON_TEXT_COLUMNS, "suggested_action",
                     *SCORED_COLUMNS[_STAMPS:]]


def reason_texts(scored: pd.DataFrame, lang: str) -> pd.DataFrame:
    """`reason_1..3` sentences in `lang` for each row of `scored` ("" for an empty slot)."""
    texts = {}
    for i in range(1, REASONS_SHOWN + 1):
        keys, params = scored[f"reason_key_{i}"], scored[f"reason_params_{i}"]
        texts[f"reason_{i}"] = [render_reason(k, p, lang) if k else ""
                                for k, p in zip(keys, params, strict=True)]
    return pd.DataFrame(texts, index=scored.index, dtype="str")


def action_texts(scored: pd.DataFrame, lang: str) -> pd.Series:
    """The suggested action of each row as a sentence in `lang` (free text stays as written)."""
    return pd.Series([render_action(k, p, lang) for k, p in
                      zip(scored["action_key"], scored["action_params"], strict=True)],
                     index=scored.index, dtype="str")


def worded_risk_list(scored: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The scored list with its sentences in `lang`: `RISK_LIST_COLUMNS` first (checked
    against `RiskList`), then the helper columns, keys included, without their parameters."""
    worded = scored.join(reason_texts(scored, lang))
    worded["suggested_action"] = action_texts(scored, lang)
    checked = RiskList.validate(worded)[RISK_LIST_COLUMNS]
    extra = [c for c in worded.columns if c not in RISK_LIST_COLUMNS and c not in KEY_PARAMS]
    return pd.concat([checked, worded[extra]], axis=1)
