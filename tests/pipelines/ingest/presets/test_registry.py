"""Recognising presets from a sufficient subset of their columns, without ambiguity."""

from __future__ import annotations

import pytest

from pipelines.ingest.presets.registry import PRESETS, detect_preset, matching_presets
from pipelines.ingest.readers import read_cells
from pipelines.ingest.run import _known, read_export
from pipelines.ingest.sources_file import SourceRule
from tests.fixtures.make_corpus import GOOD

from .conftest import NOW, staged

# what every corpus file is recognised as: the old ones as before presets matched on subsets,
# the new presets' own files as theirs (a new preset steals no earlier file)
CORPUS_PRESETS = {
    "complaints/freshdesk.csv": "freshdesk",
    "complaints/freshdesk_contacts.csv": "freshdesk",
    "complaints/salesforce_cases.csv": "salesforce-cases",
    "complaints/zendesk_1.csv": "zendesk",
    "complaints/zendesk_2.csv": "zendesk",
    "customers/hubspot_contacts.csv": "hubspot-contacts",
    "interactions/hubspot_activities.csv": "hubspot-engagements",
    "purchases/logo_invoices.csv": "logo",
    "purchases/logo_linked_returns.csv": "logo",
    "purchases/netsis_ledger.csv": "netsis",
    "purchases/shopify_orders.csv": "shopify",
    "purchases/woocommerce_orders.csv": "woocommerce",
    "purchases/hepsiburada_siparisler.csv": "hepsiburada",
    "purchases/bol_bestellingen.csv": "bol",
    "purchases/trendyol_siparisler.xlsx": "trendyol",
    "purchases/mollie_payments.csv": "mollie",
    "customers/shopify_customers.csv": "shopify-customers",
    "interactions/mailchimp_subscribed.csv": "mailchimp",
    "interactions/mailchimp_unsubscribed.csv": "mailchimp",
    "interactions/mailchimp_cleaned.csv": "mailchimp",
    "purchases/mikro_cari_hareketleri.csv": "mikro",
    "purchases/exact_verkoopfacturen.csv": "exact",
    "purchases/exact_nl_verkoopfacturen.csv": "exact",
    "purchases/woocommerce_order_export.csv": "woocommerce-export",
    "purchases/logo_lg_invoice.csv": "logo-db",
    "subscriptions/stripe_subscriptions.csv": "stripe-subscriptions",
    "subscriptions/chargebee_subscriptions.csv": "chargebee-subscriptions",
}


@pytest.mark.parametrize("relative", sorted({*GOOD, "purchases/erp_export.xlsx",
                                             "purchases/trendyol_siparisler.xlsx",
                                             "purchases/warehouse.parquet"}))
def test_every_corpus_file_keeps_its_preset_and_matches_only_that_one(raw, relative):
    headers = read_cells(raw / relative, _known).headers
    expected = CORPUS_PRESETS.get(relative)
    assert staged(raw, relative).reading.preset == expected
    assert [p.name for p in matching_presets(headers)] == ([expected] if expected else [])


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_each_preset_s_own_columns_match_that_preset_alone(preset):
    for headers in ([o.split("|")[0] for o in preset.signature | preset.optional],
                    [o.split("|")[0] for o in preset.signature]
                    + sorted(preset.optional)[:preset.min_optional]):
        assert [p.name for p in matching_presets(headers)] == [preset.name], headers


@pytest.mark.parametrize("headers, preset", [
    # Zendesk: a view of ID, requester name and e-mail, requested/updated times
    (["ID", "Subject", "Requester", "Requester email", "Requested", "Updated", "Status"],
     "zendesk"),
    (["Id", "Requester email", "Created at", "Solved at"], "zendesk"),
    (["ID", "Requester", "Created at (UTC)", "Updated at (UTC)"], "zendesk"),
    # Shopify: no line-item columns, money with its currency
    (["Name", "Email", "Financial Status", "Total (EUR)", "Created at", "Currency"],
     "shopify"),
    (["Name", "Email", "Financial Status", "Total", "Created at", "Tags"], "shopify"),
    # Freshdesk without Status; Salesforce with the contact instead of the account
    (["Ticket ID", "Subject", "Created time", "Resolved time", "Email"], "freshdesk"),
    (["CaseNumber", "ContactId", "CreatedDate", "ClosedDate"], "salesforce-cases"),
    # Stripe subscriptions with the older `Start (UTC)` and no customer id, only the e-mail
    (["id", "Customer Email", "Plan", "Quantity", "Interval", "Amount", "Status",
      "Start (UTC)"], "stripe-subscriptions"),
    # HubSpot contacts without First Name
    (["Record ID", "Email", "Create Date", "Lifecycle Stage"], "hubspot-contacts"),
    # WooCommerce export plugin: the newer defaults (`Item Name`, net total, phone only)
    (["Order Number", "Order Status", "Order Date", "Phone (Billing)", "Item Name",
      "Order Total Amount (- Refund)"], "woocommerce-export"),
    # Exact: Dutch headers, a reduced view with the API's `Type`; API names with a code
    (["Factuurnr", "Factuurdatum", "Klantcode", "Totaal (EUR)", "Type"], "exact"),
    (["InvoiceNumber", "InvoiceDate", "Debiteurcode", "AmountDC", "Type"], "exact"),
    # Logo invoice table with Turkish aliases instead of the field names
    (["Tarih", "Fiş No", "Cari Kod", "TRCODE", "Tutar"], "logo-db"),
])
def test_reduced_export_views_are_recognised(headers, preset):
    assert [p.name for p in matching_presets(headers)] == [preset]
    assert detect_preset(headers).name == preset


@pytest.mark.parametrize("headers", [
    ["ID", "Created at", "Amount", "Status"],  # one Zendesk-only column is not enough
    ["ID", "Date", "Amount", "Currency", "Status", "Description", "Consumer name"],  # Mollie
    ["Name", "Email", "Total", "Created at"],  # Shopify without Financial Status
    ["Record ID", "Deal Name", "Amount", "Close Date", "Create Date", "Deal owner"],  # deals
    ["Ticket ID", "Created time"],  # Freshdesk needs one more ticket column
    ["CaseNumber", "CreatedDate", "Status"],  # a case without account or contact
    # a generic order list: `Order Status` and `Email` but no plugin total or billing e-mail
    ["Order Number", "Order Date", "Order Status", "Total", "Email"],
    # the plugin's five order columns and nothing else of the plugin's
    ["Order Number", "Order Status", "Order Date", "Email (Billing)", "Order Total Amount"],
    # a generic Dutch invoice list without a document type is no Exact export
    ["Debiteurnummer", "Factuurnummer", "Factuurdatum", "Bedrag excl. btw"],
    # Logo's customer ledger (CLFLINE: TRANNO, ledger TRCODEs 31-56) is not the invoice table
    ["TRANNO", "DATE_", "TRCODE", "MODULENR", "CLIENTREF", "AMOUNT", "SIGN"],
    # a Turkish invoice list with neither the Fatura Tipi caption nor TRCODE
    ["Tarih", "Fiş No", "Cari Kod", "Tutar"],
])
def test_too_small_a_subset_is_not_a_preset(headers):
    assert detect_preset(headers) is None


@pytest.mark.parametrize("headers, preset", [
    # the REST/CSV WooCommerce export is not the plugin's, nor the other way round
    (["order_id", "parent_id", "order_date", "status", "order_total", "customer_id",
      "customer_email", "billing_phone"], "woocommerce"),
    (["Order ID", "Order Number", "Order Status", "Order Date", "Customer User ID",
      "Email (Billing)", "Item #", "Order Total Amount"], "woocommerce-export"),
    # Mikro and Netsis keep their files next to the Logo table preset
    (["cha_kod", "cha_tarihi", "cha_evrak_tip", "cha_normal_Iade", "cha_meblag",
      "cha_evrakno_sira"], "mikro"),
])
def test_neighbouring_systems_keep_their_files(headers, preset):
    assert [p.name for p in matching_presets(headers)] == [preset]


def test_a_logo_report_with_caption_and_code_stays_a_report():
    # both Logo presets fit; the report comes first, so the caption text is read (a report's
    # code column may hold ledger codes, which the table preset would set aside)
    headers = ["Tarih", "Fiş No", "Cari Kod", "Fatura Tipi", "TRCODE", "Toplam Tutar"]
    assert [p.name for p in matching_presets(headers)] == ["logo", "logo-db"]
    assert detect_preset(headers).name == "logo"


def test_a_reduced_zendesk_view_stages_through_the_preset(tmp_path):
    path = tmp_path / "complaints" / "view.csv"
    path.parent.mkdir()
    path.write_text("ID,Subject,Requester,Requester email,Requested,Updated\n"
                    "5,Broken,Ann,ANN@x.nl,2024-02-01 09:00:00,2024-02-02 09:00:00\n",
                    encoding="utf-8")
    result = read_export(path, "complaints", SourceRule(), "UTC", NOW)
    assert result.reading.preset == "zendesk"
    assert result.reading.columns == {"ID": "complaint_id", "Requester email": "email",
                                      "Requested": "opened_at", "Updated": "_updated_at"}
    assert result.staged[["complaint_id", "email"]].values.tolist() == [["5", "ann@x.nl"]]
    assert str(result.staged["opened_at"].iloc[0]) == "2024-02-01 09:00:00+00:00"


def test_a_reduced_shopify_view_stages_through_the_preset(tmp_path):
    path = tmp_path / "purchases" / "orders.csv"
    path.parent.mkdir()
    path.write_text("Name,Email,Financial Status,Total (EUR),Created at,Currency\n"
                    "#1001,A@B.nl,paid,19.90,2024-01-01 10:00:00 +0100,EUR\n",
                    encoding="utf-8")
    result = read_export(path, "purchases", SourceRule(), "UTC", NOW)
    assert result.reading.preset == "shopify"
    assert result.reading.notes == {"Total (EUR)": ["currency EUR"]}
    assert result.staged[["email", "order_id", "amount"]].values.tolist() == [
        ["a@b.nl", "#1001", 19.9]]
