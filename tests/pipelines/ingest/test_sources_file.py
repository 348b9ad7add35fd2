"""`sources.yaml`: rules matched by file pattern, unknown keys refused."""

from __future__ import annotations

import pytest

from pipelines.ingest.sources_file import MappingFileError, load_rules, rule_for


def test_rules_match_by_pattern_and_reject_unknown_keys(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("files:\n  - pattern: 'purchases/logo_*'\n    locale: tr\n", encoding="utf-8")
    rules = load_rules(path)
    assert rule_for(rules, "purchases/logo_2024.csv").locale == "tr"
    assert rule_for(rules, "purchases/other.csv").locale is None
    path.write_text("files:\n  - pattern: '*'\n    delimeter: ';'\n", encoding="utf-8")
    with pytest.raises(MappingFileError, match="unknown key"):
        load_rules(path)
