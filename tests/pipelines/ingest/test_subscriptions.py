"""The `subscriptions` kind through a whole ingest: headers in three languages, billing
periods in words, Stripe's own customer ids linked by e-mail, every row accounted."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.ingest.run import ingest_raw_exports
from pipelines.ingest.subscription_rows import billing_periods
from pipelines.store.staged import load_source_tables
from tests.fixtures.make_corpus import STRIPE_SUBSCRIPTIONS
from tests.pipelines.ingest.raw_files import write

NOW = dt.datetime(2024, 6, 20, tzinfo=dt.UTC)


def test_billing_periods_in_words_and_counts():
    said = pd.Series(["month", "Monthly", "Aylık", "jaarlijks", "12 months", "3 maanden",
                      "Yıllık", "week", "", None, "2 years"])
    assert billing_periods(said).tolist() == ["month", "month", "month", "year", "year",
                                              "quarter", "year", None, None, None, None]


@pytest.mark.parametrize("header, period_word", [
    ("Subscription ID,Customer ID,Plan,Start Date,End Date,Billing Period,MRR", "monthly"),
    ("Abonelik No,Müşteri No,Paket,Başlangıç Tarihi,Bitiş Tarihi,Ödeme Periyodu,Aylık Tutar",
     "aylık"),
    ("Abonnementsnummer,Klantnummer,Pakket,Startdatum,Einddatum,Factuurperiode,Maandbedrag",
     "maandelijks"),
])
def test_subscription_headers_in_english_turkish_and_dutch(settings, header, period_word):
    write(settings, "purchases", "p.csv", "customer_id,order_id,order_date,amount\n"
          "C1,O1,2024-01-05,29\n")
    decimal = "29,50" if "Aylık" in header or "Maand" in header else "29.50"
    write(settings, "subscriptions", "s.csv", f"{header}\n"
          f"S1,C1,Pro,2024-01-05,,{period_word},\"{decimal}\"\n"
          "S2,C1,Pro,2024-01-05,2024-01-01,monthly,1\n"
          "S3,C2,Pro,2024-01-05,,fortnightly,1\n")
    report = ingest_raw_exports(settings, now=NOW)
    account = next(a for a in report.accounts if a.kind == "subscriptions")
    assert (account.rows_read, account.staged, account.quarantined) == (3, 1, 2)
    assert account.reasons == {
        "ended before it started": 1,
        "unknown billing period (known: month, quarter, half_year, year)": 1}
    subs = load_source_tables(settings).subscriptions
    assert subs[["subscription_id", "customer_id", "billing_period", "mrr"]].values.tolist() \
        == [["S1", "C1", "month", 29.5]]


def test_stripe_customers_meet_the_payments_by_e_mail_and_every_row_is_accounted(settings):
    write(settings, "purchases", "payments.csv", "email,order_id,order_date,amount\n"
          "ayse.yilmaz@example.com,P1,2024-01-10,87\njan@jansen.nl,P2,2023-06-01,1200\n")
    write(settings, "subscriptions", "stripe.csv", STRIPE_SUBSCRIPTIONS)
    report = ingest_raw_exports(settings, now=NOW)
    assert all(a.balanced for a in report.accounts)
    account = next(a for a in report.accounts if a.kind == "subscriptions")
    assert (account.rows_read, account.staged, account.quarantined, account.duplicates) == (
        5, 3, 2, 0)
    tables = load_source_tables(settings)
    owner = dict(zip(tables.purchases["order_id"], tables.purchases["customer_id"],
                     strict=True))
    subs = tables.subscriptions.set_index("subscription_id")["customer_id"].to_dict()
    assert subs == {"sub_1OaA": owner["P1"], "sub_1OaB": owner["P2"], "sub_1OaE": owner["P1"]}
    # a subscription that ends after the export day is not "in the future": ended_at may lie
    # ahead (cancelled at the period end)
    assert report.staged_rows["subscriptions"] == 3
