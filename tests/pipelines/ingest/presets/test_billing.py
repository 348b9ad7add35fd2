"""Stripe and Chargebee subscription exports on the fixture corpus: exact staged values."""

from __future__ import annotations

from tests.pipelines.ingest.presets.conftest import staged, utc


def test_stripe_subscriptions_mrr_seats_dates_and_the_rows_set_aside(raw):
    result = staged(raw, "subscriptions/stripe_subscriptions.csv")
    assert (result.reading.preset, result.reading.id_space) == ("stripe-subscriptions", "stripe")
    frame = result.staged.set_index("subscription_id")
    assert list(frame.index) == ["sub_1OaA", "sub_1OaB", "sub_1OaE"]
    assert frame["customer_id"].tolist() == ["cus_PqA", "cus_PqB", "cus_PqA"]
    assert frame["email"].tolist() == ["ayse.yilmaz@example.com", "jan@jansen.nl",
                                       "ayse.yilmaz@example.com"]
    # MRR = Amount x Quantity / months of the interval
    assert frame["mrr"].tolist() == [87.0, 100.0, 9.5]
    assert frame["seats"].tolist() == [3.0, 1.0, 2.0]
    assert frame["billing_period"].tolist() == ["month", "year", "month"]
    assert frame["plan"].tolist() == ["Pro", "Team", "Add-on"]
    assert frame.loc["sub_1OaA", "started_at"] == utc("2024-01-10 09:00")
    assert frame.loc["sub_1OaB", "cancelled_at"] == utc("2024-03-15 10:00")
    assert frame.loc["sub_1OaB", "ended_at"] == utc("2024-06-01 12:00")
    assert frame["ended_at"].isna().tolist() == [True, False, True]
    assert frame["status"].tolist() == ["active", "canceled", "trialing"]
    assert result.quarantined.set_index("subscription_id")["reason"].to_dict() == {
        "sub_1OaC": "unknown billing period (known: month, quarter, half_year, year)",
        "sub_1OaD": "subscription never started (Stripe status incomplete: no first payment)"}
    assert not {"Current Period End (UTC)", "Cancel At Period End", "Customer Name"} & set(
        result.reading.columns)
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (5, 3, 2)


def test_chargebee_subscriptions_from_its_documented_fields_and_unix_times(raw):
    result = staged(raw, "subscriptions/chargebee_subscriptions.csv")
    assert (result.reading.preset, result.reading.id_space) == ("chargebee-subscriptions",
                                                                "chargebee")
    frame = result.staged.set_index("subscription_id")
    assert frame["customer_id"].to_dict() == {"AzZlGJS1": "cust_42", "AzZlGJS2": "cust_43"}
    assert frame["plan"].tolist() == ["pro-monthly", "basic-monthly"]
    # activated_at wins over created_at; Unix seconds are UTC
    assert frame["started_at"].tolist() == [utc("2024-01-10 10:00"), utc("2024-01-11 10:00")]
    assert frame.loc["AzZlGJS2", "cancelled_at"] == utc("2024-04-01 19:33:20")
    assert frame["billing_period"].isna().all() and frame["mrr"].isna().all()
    assert result.quarantined.set_index("subscription_id")["reason"].to_dict() == {
        "AzZlGJS3": "missing customer_id"}
    assert (result.account.rows_read, result.account.staged,
            result.account.quarantined) == (3, 2, 1)
