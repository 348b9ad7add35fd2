"""The subscription reason: the most concrete fact first, the customer's own numbers."""

from __future__ import annotations

import pytest

from models.reason_rules import Count, subscription


@pytest.mark.parametrize("row, key, params", [
    ({"payment_failures_90d": 2.0, "days_to_renewal": -5.0},
     "subscription.failed", {"failures": Count(2.0, "payment")}),
    ({"payment_failures_90d": 0.0, "days_to_renewal": -5.0}, "subscription.overdue",
     {"days": 5}),
    ({"mrr_change_90d": -1 / 3}, "subscription.downgraded", {"percent": 50}),  # 40 -> 20
    ({"discount_ends_in_days": 12.0}, "subscription.discount_ends", {"days": 12}),
    ({"discount_ends_in_days": -20.0}, "subscription.discount_ended", {"days": 20}),
    ({"discount_ends_in_days": -200.0, "days_to_renewal": 10.0}, "subscription.generic", {}),
])
def test_subscription_reason(row, key, params):
    assert subscription(row, {}) == (key, params)


def _keys_read(source: str) -> tuple[set[str], list[str]]:
    """The literal keys of every `<name>.get(...)`/`<name>[...]` on a row in `source`, and
    the reads whose key is not a literal (a rule computing its column name)."""
    import ast

    literal, computed = set(), []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get" and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "row"):
            key = node.args[0] if node.args else None
        elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
              and node.value.id == "row"):
            key = node.slice
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            literal.add(key.value)
        else:
            computed.append(ast.unparse(node))
    return literal, computed


def test_every_column_a_rule_reads_is_in_rule_columns():
    # the reasons build each customer's row of RULE_COLUMNS only: a rule reading another
    # column would see None for every customer and say its fallback sentence, silently
    import inspect

    from models import reason_rules

    literal, computed = _keys_read(inspect.getsource(reason_rules))
    assert literal and literal <= reason_rules.RULE_COLUMNS, literal - reason_rules.RULE_COLUMNS
    assert computed == []  # a computed column name must be added to `read_by_rules` by hand
    assert reason_rules.read_by_rules("event_page_view_prev_60d")
    assert reason_rules.read_by_rules("event_page_view_30d")
    assert not reason_rules.read_by_rules("spend_365d")


def test_the_row_rules_read_holds_every_rule_column_and_no_other():
    import pandas as pd

    from models.explain import _rule_rows
    from models.reason_rules import RULE_COLUMNS

    features = pd.DataFrame({"recency_days": [3.0], "spend_365d": [1.0], "segment": ["b2b"],
                             "event_login_prev_60d": [8.0], "event_login_30d": [0.0],
                             "signup_date": pd.to_datetime(["2024-01-01"], utc=True)})
    (row,) = list(_rule_rows(features))
    assert row == {"recency_days": 3.0, "segment": "b2b", "event_login_prev_60d": 8.0,
                   "event_login_30d": 0.0}
    assert set(row) - {"event_login_prev_60d", "event_login_30d"} <= RULE_COLUMNS
