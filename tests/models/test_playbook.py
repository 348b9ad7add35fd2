from __future__ import annotations

import pandas as pd
import pytest

from models.playbook import (
    PlaybookError,
    action_key,
    oldest_open_complaints,
    parse_playbook,
    suggested_actions,
)
from tests import factories as f

GROUPS = ["overdue", "complaints"]
TIERS = ["Critical", "At risk", "Watch", "Safe"]
BOOK = """reason_group,tier,min_value_at_risk,action
overdue,Critical,1000,personal_winback_call
overdue,Critical,0,personal_outreach
complaints,*,0,resolve_complaint
*,*,0,no_action
"""


def test_first_matching_row_wins_with_value_threshold():
    book = parse_playbook(BOOK, groups=GROUPS, tiers=TIERS)
    assert action_key(book, "overdue", "Critical", 5000) == "personal_winback_call"
    assert action_key(book, "overdue", "Critical", 10) == "personal_outreach"
    assert action_key(book, "overdue", "Watch", 5000) == "no_action"


def test_complaint_action_quotes_the_number_or_falls_back():
    book = parse_playbook(BOOK, groups=GROUPS, tiers=TIERS)
    risk = pd.DataFrame({"reason_group_1": ["complaints", "complaints"], "risk_tier": ["Watch"] * 2,
                         "value_at_risk": [1.0, 1.0], "open_complaint_id": ["T-9", None],
                         "open_complaint_days": [12.0, None]})
    actions = suggested_actions(book, risk)
    assert actions["action_key"].tolist() == ["resolve_complaint", "follow_up_complaints"]
    assert actions["action_params"].tolist() == [{"complaint_id": "T-9", "days": 12}, {}]


@pytest.mark.parametrize("text, message", [
    ("reason_group,tier,action\nshipping,*,x\n*,*,y\n", "line 2: unknown reason group 'shipping'"),
    ("reason_group,tier,action\n*,Urgent,x\n*,*,y\n", "line 2: unknown tier 'Urgent'"),
    ("reason_group,tier,action\noverdue,*,x\n", "add a last row"),
    ("group,action\n*,x\n", "missing column(s) reason_group, tier"),
])
def test_bad_playbooks_fail_with_a_clear_line(text, message):
    with pytest.raises(PlaybookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_playbook(text, groups=GROUPS, tiers=TIERS)


def test_oldest_open_complaint_is_point_in_time():
    complaints = f.complaints([
        ("a", "2024-05-01", None, None),
        ("a", "2024-05-20", None, None),
        ("b", "2024-05-01", "2024-06-10", None),   # resolved after the cutoff: open at it
        ("c", "2024-05-01", "2024-05-02", None),   # resolved before: not open
        ("d", "2024-06-02", None, None),           # opened after the cutoff
    ])
    frame = oldest_open_complaints(complaints, "2024-06-01").set_index("customer_id")
    assert sorted(frame.index) == ["a", "b"]
    assert frame.loc["a", "open_complaint_id"] == "T00000"
    assert frame.loc["a", "open_complaint_days"] == 31


def test_shipped_playbook_sends_every_lapsed_customer_to_win_back():
    from models.explain import REASON_GROUPS
    from models.playbook import default_playbook_text
    from models.tiers import TierPolicy

    groups = list(REASON_GROUPS)
    book = parse_playbook(default_playbook_text(), groups=groups, tiers=TierPolicy().names,
                          drop_unknown_tiers=True)
    # even an open complaint does not turn a lapsed customer into a retention call
    assert {action_key(book, g, "Lapsed", 500.0) for g in [*groups, "none"]} == {
        "winback_campaign"}
    assert action_key(book, "complaints", "Critical", 500.0) == "resolve_complaint"
    lapsed = pd.DataFrame({"reason_group_1": ["overdue"], "risk_tier": ["Lapsed"],
                           "value_at_risk": [0.0]})
    assert suggested_actions(book, lapsed)["action_key"].tolist() == ["winback_campaign"]
    # with the rule off the policy has no Lapsed tier and the shipped row is set aside
    off = parse_playbook(default_playbook_text(), groups=groups,
                         tiers=TierPolicy(lapsed_after_days=None).names, drop_unknown_tiers=True)
    assert "Lapsed" not in set(off["tier"])
