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


def test_an_empty_value_means_detect_it_and_an_empty_pattern_is_refused(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("files:\n  - pattern: 'purchases/*'\n    preset:\n    kind:\n"
                    "    columns:\n    timezone: Europe/Istanbul\n", encoding="utf-8")
    [rule] = load_rules(path)
    assert (rule.preset, rule.kind, rule.columns) == (None, None, {})  # not the text "None"
    assert rule.timezone == "Europe/Istanbul"
    path.write_text("files:\n  - pattern:\n    locale: tr\n", encoding="utf-8")
    with pytest.raises(MappingFileError, match="`pattern` is empty"):
        load_rules(path)
