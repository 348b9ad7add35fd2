"""The risk list's loop columns, as the team sees them in en/tr/nl, read back as actions."""

from __future__ import annotations

import pytest

from pipelines.deliver.i18n import column_label
from pipelines.ingest.headers import map_headers
from pipelines.ingest.keys import mappable_columns

BACK = {"customer_id": "customer_id", "list_run_id": "list_run_id", "row_id": "row_id",
        "action_taken": "action", "action_date": "action_at",
        "action_outcome": "outcome", "action_cost": "cost", "owner": "owner"}


@pytest.mark.parametrize("lang", ["en", "tr", "nl"])
def test_every_loop_column_header_maps_back_to_its_action_column(lang):
    headers = [column_label(c, lang) for c in (*BACK, "suggested_action", "holdout",
                                                "risk_tier", "customer_name")]
    mapping = map_headers(headers, mappable_columns("actions"))
    assert {column_label(c, lang): t for c, t in BACK.items()}.items() <= mapping.items()
    # the suggested action is what the playbook said, not what the team did
    assert column_label("suggested_action", lang) not in mapping
