"""Learned interaction types: the list, the windowed features, the hook and the reason."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from features.build import build_customer_features
from features.event_types import (
    OTHER_TYPE,
    event_type_feature_names,
    event_type_features,
    event_type_slugs,
    fallen_event_type,
    learn_event_types,
    with_event_type_features,
)
from features.labels import LabelSpec
from features.snapshots import build_model_input
from models.explain import group_of_feature
from models.reason_rules import engagement
from tests import factories as f

AS_OF = dt.date(2024, 6, 30)


def _events(rows):
    return f.interactions([(c, when, kind, "inbound") for c, when, kind in rows])


def test_the_most_frequent_types_are_learned_and_rarer_ones_pooled_into_other():
    rows = ([("A", "2024-06-01", "post")] * 5 + [("A", "2024-06-02", "login")] * 3
            + [("B", "2024-06-03", "export")] + [("B", "2024-07-05", "later_only")] * 9)
    events = _events(rows)
    assert learn_event_types(events, AS_OF, 2) == ["post", "login", OTHER_TYPE]
    # nothing after as_of counts, not even for the vocabulary
    assert learn_event_types(events, AS_OF, 20) == ["post", "login", "export"]
    assert learn_event_types(events, AS_OF, 0) == []


def test_slugs_are_column_safe_and_unique():
    assert event_type_slugs(["Page View", "page-view", "Post"]) == {
        "Page View": "page_view", "page-view": "page_view_2", "Post": "post"}


def test_counts_trend_and_days_since_per_type_over_the_windows():
    rows = ([("A", "2024-06-30 23:59", "post")]          # as_of itself: counts
            + [("A", "2024-06-01", "post")]                # 29 days before: in 30d
            + [("A", "2024-05-31", "post")] * 4            # 30 days before: 90d, not 30d
            + [("A", "2024-04-02", "post")]                # 89 days before: in 90d
            + [("A", "2024-04-01", "post")]                # 90 days before: outside
            + [("A", "2024-07-01", "post")]                # after as_of: never
            + [("B", "2024-06-20", "login")])
    got = event_type_features(_events(rows), AS_OF, ["post", "login"])
    a = got.loc["A"]
    assert (a["event_post_30d"], a["event_post_90d"], a["event_post_prev_60d"]) == (2, 7, 5)
    assert a["event_post_days_since"] == 0
    assert a["event_post_trend"] == (4 - 5) / (4 + 5)
    assert np.isnan(a["event_login_days_since"]) and got.loc["B", "event_login_trend"] == 1.0
    assert list(got.columns) == event_type_feature_names(["post", "login"])


def test_the_hook_adds_the_columns_to_every_eligible_customer_and_unseen_types_are_other():
    purchases = f.purchases([("A", "2024-05-01", 10), ("B", "2024-05-02", 10),
                             ("C", "2024-05-03", 10)])
    events = _events([("A", "2024-06-10", "post"), ("B", "2024-06-11", "brand_new")])
    tables = f.tables(purchases=purchases, interactions=events)
    base = build_customer_features(tables, AS_OF)
    out = with_event_type_features(base, events, AS_OF, ["post", OTHER_TYPE])
    assert list(out.columns[:len(base.columns)]) == list(base.columns)
    by_id = out.set_index("customer_id")
    assert by_id.loc["B", "event_other_30d"] == 1 and by_id.loc["C", "event_post_30d"] == 0
    assert np.isnan(by_id.loc["C", "event_post_days_since"])
    frame = build_model_input(tables, [dt.date(2024, 5, 31), AS_OF], LabelSpec(horizon_days=7),
                              data_end=dt.date(2024, 7, 31), event_types=["post"])
    assert set(event_type_feature_names(["post"])) <= set(frame.columns)


def test_a_collapsed_type_is_the_engagement_reason_and_names_the_type():
    row = {"event_post_30d": 4.0, "event_post_prev_60d": 62.0,
           "event_login_30d": 10.0, "event_login_prev_60d": 20.0,  # steady: 10 a month
           "interactions_30d": 14.0, "interactions_prev_60d": 82.0}
    assert fallen_event_type(row) == ("post", 31.0, 4.0)
    assert engagement(row, {}) == ("engagement.type_fell", {"type": "post", "before": 31,
                                                            "now": 4})
    assert group_of_feature("event_post_trend") == "engagement"
    assert group_of_feature("event_post_something") is None


def test_the_sentence_reads_in_every_language():
    from pipelines.deliver.i18n import render_reason

    params = {"type": "post", "before": 31, "now": 4}
    assert render_reason("engagement.type_fell", params, "en") == \
        "'post' events fell from 31 to 4 a month."
    for lang in ("tr", "nl"):
        assert "31" in render_reason("engagement.type_fell", params, lang)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 200),
                          st.sampled_from(["post", "login", "share", "x"])),
                min_size=1, max_size=40))
def test_counts_never_exceed_their_longer_window_and_trend_is_bounded(events):
    rows = [(c, str(pd.Timestamp(AS_OF) - pd.Timedelta(days=age)), kind)
            for c, age, kind in events]
    types = learn_event_types(_events(rows), AS_OF, 2)
    got = event_type_features(_events(rows), AS_OF, types)
    for slug in event_type_slugs(types).values():
        assert (got[f"event_{slug}_30d"].fillna(0) <= got[f"event_{slug}_90d"].fillna(0)).all()
        assert got[f"event_{slug}_trend"].between(-1, 1).all()


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["A", "B", "ç"]), st.integers(0, 200),
                               st.sampled_from(["login", "page view", "export", None])),
                     min_size=1, max_size=40),
       types=st.sampled_from([["login"], ["login", "page view"], ["login", OTHER_TYPE]]))
def test_type_counts_equal_a_groupby_per_type(rows, types):
    start = pd.Timestamp("2024-01-01")
    interactions = f.interactions([(c, str(start + pd.Timedelta(days=d)), t or "")
                                   for c, d, t in rows])
    as_of = dt.date(2024, 6, 1)
    got = event_type_features(interactions, as_of, types)
    seen = interactions[interactions["occurred_at"] < pd.Timestamp("2024-06-02", tz="UTC")]
    kind = seen["type"].astype("str").str.strip()
    slugs = event_type_slugs(types)
    if OTHER_TYPE in slugs:
        kind = kind.where(kind.isin(list(slugs)), OTHER_TYPE)
    age = (pd.Timestamp("2024-06-01", tz="UTC") - seen["occurred_at"].dt.floor("D")).dt.days
    frame = pd.DataFrame({"customer_id": seen["customer_id"].astype(str).to_numpy(),
                          "kind": kind.to_numpy(), "age": age.to_numpy()})
    for name, slug in slugs.items():
        mine = frame[frame["kind"] == name].groupby("customer_id")["age"]
        expected = pd.DataFrame({"n30": mine.apply(lambda a: float((a < 30).sum())),
                                 "n90": mine.apply(lambda a: float((a < 90).sum())),
                                 "since": mine.min().astype(float)}).reindex(got.index)
        for column, ours in (("n30", "30d"), ("n90", "90d"), ("since", "days_since")):
            assert np.allclose(got[f"event_{slug}_{ours}"], expected[column], equal_nan=True)
