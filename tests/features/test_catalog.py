from pathlib import Path

from features.catalog import FEATURES, features_doc

ROOT = Path(__file__).resolve().parents[2]


def test_feature_docs_match_the_catalog():
    assert (ROOT / "docs" / "features.md").read_text() == features_doc(), (
        "docs/features.md is stale: run `python -m features.catalog > docs/features.md`"
    )


def test_feature_names_are_unique_and_documented():
    names = [spec.name for spec in FEATURES]
    assert len(names) == len(set(names))
    assert all(spec.meaning and spec.unit for spec in FEATURES)
