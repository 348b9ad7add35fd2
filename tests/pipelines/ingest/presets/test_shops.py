"""Shopify customers and the WooCommerce export plugin on the fixture corpus (Shopify orders
and WooCommerce REST orders: test_corpus.py)."""

from __future__ import annotations

from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule
from tests.pipelines.ingest.presets.conftest import NOW, staged, utc
from tests.pipelines.ingest.raw_files import cells


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
    assert cells(frame["name"]) == ["Ayşe Yılmaz", "Jan", None]
    assert cells(frame["email"]) == ["ayse@example.com", "jan@example.nl", None]
    assert cells(frame["region"]) == ["İstanbul", "Utrecht", None]
    assert frame["signup_date"].isna().all()  # the export has none
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (3, 3, 0)


def test_woocommerce_export_plugin_one_order_per_number_refunds_netted_once(raw):
    result = staged(raw, "purchases/woocommerce_order_export.csv")
    reading = result.reading
    assert (reading.preset, reading.locale, reading.id_space) == ("woocommerce-export", "en",
                                                                  "woocommerce")
    # export-time line refunds are not read: the order's refund amount is, once
    assert not {"Quantity (- Refund)", "Order Line Total Refunded",
                "Order Line Total (- Refund)"} & set(reading.columns)
    assert reading.columns["Order Refund Amount"] == "amount (refund netted once)"
    frame = result.staged.set_index("order_id")
    # `01005` keeps its leading zero; localized labels: Completo, Terugbetaald, İptal Edildi,
    # Tamamlandı, In de wacht (on hold: not a purchase)
    assert frame["amount"].to_dict() == {"1001": 59.9, "1002": 75.0, "1003": 45.5,
                                         "1004": 12.0, "01005": 30.0, "1006": 9.0}
    assert frame["status"].to_dict() == {"1001": "completed", "1002": "completed",
                                         "1003": "returned", "1004": "cancelled",
                                         "01005": "completed", "1006": "cancelled"}
    assert frame["email"].tolist() == ["ayse@example.com", "jan@example.nl", "jan@example.nl",
                                       "mehmet@example.com.tr", "ayse@example.com",
                                       "jan@example.nl"]
    assert frame.loc["1001", "phone"] == "+905321112233"
    assert frame["quantity"].tolist() == [3.0, 1.0, 1.0, 1.0, 4.0, 1.0]
    assert frame.loc["1001", "order_date"] == utc("2024-05-01 10:15")
    assert frame["customer_id"].isna().all()  # no Customer User ID column in this view
    reasons = result.quarantined.set_index("_source_line")["reason"].to_dict()
    assert reasons == {11: "unknown order status",  # `Bij de koerier`: no known label
                       12: "no customer key (e-mail and phone all empty)"}
    account = result.account
    assert (account.rows_read, account.staged, account.merged, account.quarantined) == (
        11, 6, 3, 2)
    assert account.balanced


def test_a_newer_woocommerce_export_view_with_the_net_total_stages(tmp_path):
    path = tmp_path / "purchases" / "orders.csv"
    path.parent.mkdir()
    path.write_text(
        "Order Number,Order Status,Order Date,Full Name (Billing),Email (Billing),Item #,SKU,"
        "Item Name,Quantity (- Refund),Item Cost,Order Refund Amount,"
        "Order Total Amount (- Refund),Customer User ID\n"
        "2001,Completed,2024-06-01 10:00:00,Ann de Vries,ANN@x.nl,1,A,Mok,2,5.00,2.50,7.50,17\n"
        "2001,,,,,2,B,Bord,1,2.50,,,\n"
        "2002,Refunded,2024-06-02 10:00:00,Guest,guest@x.nl,1,A,Mok,0,5.00,5.00,0.00,0\n",
        encoding="utf-8")
    result = read_export(path, "purchases", SourceRule(), "UTC", NOW)
    assert result.reading.preset == "woocommerce-export"
    frame = result.staged.set_index("order_id")
    # total = net + refund: 2001 is 10.00 with 2.50 refunded (netted), 2002 fully refunded
    assert frame["amount"].to_dict() == {"2001": 7.5, "2002": 5.0}
    assert frame["status"].to_dict() == {"2001": "completed", "2002": "returned"}
    assert cells(frame["customer_id"]) == ["17", None]  # user 0 is a guest
    assert frame["email"].tolist() == ["ann@x.nl", "guest@x.nl"]
    assert frame["quantity"].tolist() == [3.0, 0.0]
    assert (result.account.rows_read, result.account.merged) == (3, 1)
