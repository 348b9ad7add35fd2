"""Mollie payments on the fixture corpus: keyed by IBAN, refunds set status or net amount."""

from __future__ import annotations

from tests.pipelines.ingest.presets.conftest import staged, utc


def test_mollie_payments_are_purchases_keyed_by_the_payer_iban(raw):
    result = staged(raw, "purchases/mollie_payments.csv", "Europe/Amsterdam")
    reading = result.reading
    assert (reading.preset, reading.encoding, reading.delimiter) == ("mollie", "cp1252", ";")
    frame = result.staged.set_index("order_id")
    # IBANs with and without spaces, any case, are one customer
    assert frame["customer_id"].to_dict() == {
        "tr_WDqYK6vllg": "NL91ABNA0417164300", "tr_7UhSN1zuXS": "NL91ABNA0417164300",
        "tr_8KjPq2wRtY": "BE68539007547034", "tr_3NbVc5xZaQ": "BE68539007547034",
        "tr_9LmKj8hGfD": "NL91ABNA0417164300"}
    # full refund: returned at the gross amount; partial refund 25,00 netted
    assert frame["amount"].to_dict() == {"tr_WDqYK6vllg": 1250.0, "tr_7UhSN1zuXS": 49.95,
                                         "tr_8KjPq2wRtY": 75.0, "tr_3NbVc5xZaQ": 20.0,
                                         "tr_9LmKj8hGfD": 15.0}
    assert frame["status"].to_dict() == {"tr_WDqYK6vllg": "completed",
                                         "tr_7UhSN1zuXS": "returned",
                                         "tr_8KjPq2wRtY": "completed",
                                         "tr_3NbVc5xZaQ": "cancelled",
                                         "tr_9LmKj8hGfD": "cancelled"}
    assert frame.loc["tr_WDqYK6vllg", "order_date"] == utc("2024-03-05 13:30:12")
    # a card payment has a consumer name but no account: never matched on the name
    assert result.quarantined.set_index("order_id")["reason"].to_dict() == {
        "tr_2QwErTyUiO": "no customer key (no Consumer bank account; Mollie exports no e-mail "
                         "and a name is never matched)",
        "tr_5AsDfGhJkL": "payment not completed yet (open, pending or authorized)"}
    assert not {"Consumer name", "Description", "Settlement amount"} & set(reading.columns)
    account = result.account
    assert (account.rows_read, account.staged, account.merged, account.quarantined) == (
        7, 5, 0, 2)
