from __future__ import annotations

import pytest

from models.playbook import default_playbook_text
from models.reason_rules import SENTENCE_RULES, Count
from models.segments import SEGMENT_NAMES
from models.tiers import TierPolicy
from pipelines.deliver.catalogs import en
from pipelines.deliver.i18n import LANGUAGES, format_number, render_reason, template_fields

CATALOGS = ("REASONS", "NOUNS", "TIERS", "SEGMENTS", "ACTIONS", "GROUPS", "COLUMNS", "REPORT",
            "SUMMARY", "NUMBER", "METRICS", "ANALYTICS")


@pytest.mark.parametrize("lang", ["tr", "nl"])
def test_every_template_exists_in_every_language_with_the_same_placeholders(lang):
    other = LANGUAGES[lang]
    for name in CATALOGS:
        assert set(getattr(other, name)) == set(getattr(en, name)), name
    for name in ("REASONS", "ACTIONS", "REPORT", "SUMMARY", "ANALYTICS"):
        for key, template in getattr(en, name).items():
            assert template_fields(getattr(other, name)[key]) == template_fields(template), key
            if name not in ("REPORT", "SUMMARY", "ANALYTICS"):  # a label may be the same word
                assert getattr(other, name)[key] != template, key


def test_every_reason_key_a_rule_can_return_has_a_template():
    import inspect

    source = inspect.getsource(__import__("models.reason_rules", fromlist=["x"]))
    for key in en.REASONS:
        if key not in ("none",):
            assert f'"{key}"' in source, key
    assert set(SENTENCE_RULES) <= set(en.GROUPS)


def test_tiers_segments_and_shipped_actions_are_translated():
    policy = TierPolicy()
    assert policy.lapsed_tier in policy.names  # the default policy has the lapsed tier
    for lang in LANGUAGES.values():
        assert set(policy.names) <= set(lang.TIERS)
        assert {"winback_campaign", "lapsed_customers", "lapsed_rule"} <= (
            set(lang.ACTIONS) | set(lang.REPORT))
        assert set(SEGMENT_NAMES) == set(lang.SEGMENTS)
    actions = {line.split(",")[-1] for line in default_playbook_text().splitlines()[1:]}
    assert actions <= set(en.ACTIONS)


def test_numbers_and_plurals_follow_the_language():
    assert format_number(1234.5, "en", 1) == "1,234.5"
    assert format_number(1234.5, "tr", 1) == "1.234,5"
    params = {"complaints": Count(1, "complaint")}
    assert render_reason("complaints.year", params, "en") == "1 complaint in the last 12 months."
    params = {"complaints": Count(3, "complaint")}
    assert render_reason("complaints.year", params, "nl") == "3 klachten in de afgelopen 12 maanden."
    assert render_reason("complaints.year", params, "tr") == "Son 12 ayda 3 şikayet."
    with pytest.raises(ValueError, match="unknown language"):
        render_reason("none", {}, "de")


@pytest.mark.parametrize("lang, expected", [
    ("en", "Since the previous run (2024-05-31/r1): 1 customer entered the top tiers (Critical)"
           " and 2 customers left; 3 new in Critical."),
    ("tr", "Önceki çalıştırmadan (2024-05-31/r1) bu yana üst risk seviyelerine (Kritik) "
           "1 müşteri girdi, 2 müşteri çıktı; Kritik seviyesinde 3 yeni müşteri var."),
    ("nl", "Sinds de vorige run (2024-05-31/r1): 1 klant erbij in de hoogste risiconiveaus "
           "(Kritiek) en 2 klanten eruit; 3 nieuw in Kritiek."),
])
def test_summary_lines_count_customers_in_the_language(lang, expected):
    from pipelines.deliver.i18n import summary_label, tier_label

    line = summary_label("changes", lang, previous="2024-05-31/r1",
                         entered=Count(1, "customer"), left=Count(2, "customer"),
                         top_tiers=tier_label("Critical", lang), new=3,
                         critical=tier_label("Critical", lang))
    assert line == expected
