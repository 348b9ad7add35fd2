"""Mailchimp audience exports on the fixture corpus: one membership event per member row."""

from __future__ import annotations

from tests.pipelines.ingest.presets.conftest import staged, utc


def test_mailchimp_subscribed_members_become_subscribe_interactions(raw):
    result = staged(raw, "interactions/mailchimp_subscribed.csv")
    assert result.reading.preset == "mailchimp"
    frame = result.staged.set_index("customer_id")
    # the confirm time (double opt-in) wins over the opt-in time; e-mail lower-cased
    assert frame["occurred_at"].to_dict() == {"ayse@example.com": utc("2024-01-10 08:05:12"),
                                              "jan@example.nl": utc("2024-02-01 12:00:00")}
    assert set(frame["type"]) == {"newsletter_subscribe"} and set(frame["channel"]) == {"email"}
    assert frame["direction"].isna().all()
    assert frame.loc["jan@example.nl", "interaction_id"] == (
        "mailchimp:jan@example.nl:newsletter_subscribe:2024-02-01 12:00:00")
    assert result.quarantined.set_index("_source_line")["reason"].to_dict() == {
        4: "no OPTIN_TIME, CONFIRM_TIME, UNSUB_TIME or CLEAN_TIME (no event)"}
    assert not {"MEMBER_RATING", "TAGS", "LAST_CHANGED"} & set(result.reading.columns)
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (3, 2, 1)


def test_mailchimp_unsubscribes_use_the_type_the_unsubscribed_feature_reads(raw):
    unsubscribed = staged(raw, "interactions/mailchimp_unsubscribed.csv").staged
    assert unsubscribed[["customer_id", "type", "occurred_at"]].values.tolist() == [
        ["mehmet@example.com.tr", "newsletter_unsubscribe", utc("2024-03-15 18:20")]]
    cleaned = staged(raw, "interactions/mailchimp_cleaned.csv")
    assert cleaned.staged[["customer_id", "type", "occurred_at"]].values.tolist() == [
        ["old@example.nl", "newsletter_cleaned", utc("2024-04-01")]]
    assert (cleaned.account.rows_read, cleaned.account.staged) == (1, 1)
