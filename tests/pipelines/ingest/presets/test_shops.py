"""Shopify customers export on the fixture corpus (orders: test_corpus.py)."""

from __future__ import annotations

from tests.pipelines.ingest.presets.conftest import staged


def test_shopify_customers_strip_the_apostrophe_and_never_read_totals(raw):
    result = staged(raw, "customers/shopify_customers.csv")
    reading = result.reading
    assert (reading.preset, reading.encoding) == ("shopify-customers", "utf-8-sig")
    assert reading.columns == {"Customer ID": "customer_id", "First Name": "name",
                               "Last Name": "name", "Email": "email",
                               "Default Address City": "region", "Phone": "phone"}
    frame = result.staged.set_index("customer_id")
    # `'595909214328` is an Excel-protected id; a leading zero after it stays
    assert frame.index.tolist() == ["595909214328", "595909214329", "0595909214330"]
    assert frame["name"].tolist() == ["Ayşe Yılmaz", "Jan", None]
    assert frame["email"].tolist() == ["ayse@example.com", "jan@example.nl", None]
    assert frame["region"].tolist() == ["İstanbul", "Utrecht", None]
    assert frame["signup_date"].isna().all()  # the export has none
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (3, 3, 0)
