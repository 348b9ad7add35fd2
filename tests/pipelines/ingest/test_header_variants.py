"""Headers as people write them: units, currencies, notes, separators and numbering taken off
(and kept as notes), the priority among several candidates for one column, and the help when
a required column is still missing."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from pipelines.ingest.headers import (
    PRIORITIES,
    describe_note,
    header_notes,
    match_headers,
    split_header,
)
from pipelines.ingest.keys import mappable_columns
from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule
from pipelines.ingest.staging import StagingError
from pipelines.ingest.suggest import MissingColumnsError

PURCHASES = mappable_columns("purchases")
COMPLAINTS = mappable_columns("complaints")
CUSTOMERS = mappable_columns("customers")
NOW = pd.Timestamp("2026-01-01", tz="UTC")


@pytest.mark.parametrize("header, core, notes", [
    ("Amount (EUR)", "Amount", ["currency EUR"]),
    ("Bedrag [€]", "Bedrag", ["currency €"]),
    ("Tutar (TL)", "Tutar", ["currency TL"]),
    ("Toplam Tutar - KDV Dahil", "Toplam Tutar", ["incl. VAT"]),
    ("Net amount:", "Net amount", []),
    ("Sipariş Tutarı, TL", "Sipariş Tutarı", ["currency TL"]),
    ("Created (UTC)", "Created", ["time zone UTC"]),
    ("Order Line Total (- Refund)", "Order Line Total", ["note: - Refund"]),
    ("Ticket Category [list]", "Ticket Category", ["note: list"]),
    ("1. Date", "Date", []),
    ("Date 2", "Date", []),
    ("  Order    Date ", "Order Date", []),
    ("Bedrag excl. btw", "Bedrag", ["excl. VAT"]),
    ("Amount incl. VAT", "Amount", ["incl. VAT"]),
    ("Tutar (KDV)", "Tutar", ["VAT only"]),
    ("Paid At (UTC+3)", "Paid At", ["time zone UTC+3"]),
])
def test_split_header_takes_units_notes_and_numbering_off(header, core, notes):
    assert split_header(header)[0] == core
    assert header_notes(header) == notes


def test_describe_note_names_currencies_tax_and_zones():
    assert [describe_note(n) for n in ("usd", "₺", "KDV Hariç", "w/o tax", "GMT", "metadata")] \
        == ["currency USD", "currency ₺", "excl. VAT", "excl. VAT", "time zone GMT",
            "note: metadata"]


# At least three variants per family (units, separators, numbering), in every language.
@pytest.mark.parametrize("headers, expected", [
    # units / currencies in brackets
    (["Customer ID (CRM)", "Order No.", "Order Date (UTC)", "Amount (EUR)"],
     {"Customer ID (CRM)": "customer_id", "Order No.": "order_id",
      "Order Date (UTC)": "order_date", "Amount (EUR)": "amount"}),
    (["Müşteri No", "Fiş No", "Tarih", "Tutar (TL)"],
     {"Müşteri No": "customer_id", "Fiş No": "order_id", "Tarih": "order_date",
      "Tutar (TL)": "amount"}),
    (["Klantnummer", "Ordernummer", "Datum", "Bedrag [€]"],
     {"Klantnummer": "customer_id", "Ordernummer": "order_id", "Datum": "order_date",
      "Bedrag [€]": "amount"}),
    (["Cari Kod", "Belge No", "Fatura Tarihi", "Toplam {TRY}"],
     {"Cari Kod": "customer_id", "Belge No": "order_id", "Fatura Tarihi": "order_date",
      "Toplam {TRY}": "amount"}),
    # separators
    (["Cari Kod", "Fiş No", "Tarih", "Toplam Tutar - KDV Dahil"],
     {"Cari Kod": "customer_id", "Fiş No": "order_id", "Tarih": "order_date",
      "Toplam Tutar - KDV Dahil": "amount"}),
    (["Customer:", "Invoice Number:", "Invoice Date:", "Net amount:"],
     {"Customer:": "customer_id", "Invoice Number:": "order_id",
      "Invoice Date:": "order_date", "Net amount:": "amount"}),
    (["Müşteri No", "Sipariş No", "Sipariş Tarihi", "Sipariş Tutarı, TL"],
     {"Müşteri No": "customer_id", "Sipariş No": "order_id", "Sipariş Tarihi": "order_date",
      "Sipariş Tutarı, TL": "amount"}),
    (["Debiteurnummer", "Factuurnummer", "Factuurdatum – boekjaar 2024", "Bedrag | EUR"],
     {"Debiteurnummer": "customer_id", "Factuurnummer": "order_id",
      "Factuurdatum – boekjaar 2024": "order_date", "Bedrag | EUR": "amount"}),
    # numbering and repeated whitespace
    (["1. Customer ID", "2. Order ID", "3. Date", "4. Amount"],
     {"1. Customer ID": "customer_id", "2. Order ID": "order_id", "3. Date": "order_date",
      "4. Amount": "amount"}),
    (["Müşteri  No", "Sipariş   No", "Tarih 1", "Tutar 1"],
     {"Müşteri  No": "customer_id", "Sipariş   No": "order_id", "Tarih 1": "order_date",
      "Tutar 1": "amount"}),
    (["Klant nr", "Order nr", "1) Datum", "Totaal"],
     {"Klant nr": "customer_id", "Order nr": "order_id", "1) Datum": "order_date",
      "Totaal": "amount"}),
])
def test_purchase_headers_with_units_separators_and_numbering_map(headers, expected):
    assert match_headers(headers, PURCHASES).mapping == expected


def test_the_removed_units_stay_on_the_mapping_as_notes():
    match = match_headers(["Cari Kod", "Fiş No", "Created (UTC)", "Tutar (TL)",
                           "Bedrag incl. btw"], PURCHASES)
    assert match.mapping["Bedrag incl. btw"] == "amount"
    assert match.notes == {"Created (UTC)": ["time zone UTC"],
                           "Bedrag incl. btw": ["incl. VAT"]}
    match = match_headers(["Cari Kod", "Toplam Tutar - KDV Dahil"], PURCHASES)
    assert match.notes == {"Toplam Tutar - KDV Dahil": ["incl. VAT"]}


@pytest.mark.parametrize("headers, column, chosen, runners_up", [
    # amount: incl. VAT / gross > total / plain > net / excl. VAT; VAT-only never
    (["Net Amount", "Total (EUR)", "Bedrag incl. btw"], "amount", "Bedrag incl. btw",
     ["Total (EUR)", "Net Amount"]),
    (["Bedrag excl. btw", "Bedrag"], "amount", "Bedrag", ["Bedrag excl. btw"]),
    (["Net Tutar, TL", "Sipariş Tutarı, TL"], "amount", "Sipariş Tutarı, TL", ["Net Tutar, TL"]),
    (["Net Total", "Gross Total"], "amount", "Gross Total", ["Net Total"]),
    (["Satış Tutarı", "Faturalanacak Tutar"], "amount", "Faturalanacak Tutar", ["Satış Tutarı"]),
    (["Tutar (KDV)", "Net Tutar"], "amount", "Net Tutar", []),
    # order date: order/invoice date > plain date > created > paid; never updated
    (["Paid at", "Created at", "Date", "Invoice Date"], "order_date", "Invoice Date",
     ["Date", "Created at", "Paid at"]),
    (["Paid at", "Created (UTC)"], "order_date", "Created (UTC)", ["Paid at"]),
])
def test_the_best_candidate_fills_a_column_and_the_others_are_kept(headers, column, chosen,
                                                                   runners_up):
    match = match_headers(headers, PURCHASES)
    assert {c: h for h, c in match.mapping.items()}[column] == chosen
    assert match.runners_up.get(column, []) == runners_up


def test_an_updated_time_or_a_vat_amount_never_fills_a_column():
    assert match_headers(["Updated at", "Date updated", "KDV", "Tutar (KDV)"],
                         PURCHASES).mapping == {}


def test_an_amount_noted_as_a_refund_discount_or_fee_is_not_the_sale():
    assert match_headers(["Tutar - İade", "Amount (discount)", "Bedrag [verzendkosten]",
                          "Total, fee"], PURCHASES).mapping == {}
    # "minus the refund" is still the sale's amount
    assert match_headers(["Order Total Amount (- Refund)"], PURCHASES).mapping == {
        "Order Total Amount (- Refund)": "amount"}


def test_id_email_and_phone_are_keys_of_their_own_and_a_name_never_fills_an_id():
    match = match_headers(["Requester", "Requester email", "Requester ID", "Requester phone"],
                          COMPLAINTS)
    assert match.mapping == {"Requester ID": "customer_id", "Requester email": "email",
                             "Requester phone": "phone"}
    assert match_headers(["Customer (Name)", "Email"], PURCHASES).mapping == {
        "Email": "email"}
    assert match_headers(["Email", "Name", "GSM No"], CUSTOMERS).mapping == {
        "Email": "email", "Name": "name", "GSM No": "phone"}
    assert match_headers(["Müşteri Adı", "Cep Telefonu"], PURCHASES).mapping == {
        "Cep Telefonu": "phone"}


def test_a_helpdesk_view_without_requester_id_maps_its_id_and_email():
    headers = ["ID", "Subject", "Requester", "Requester email", "Status", "Created at",
               "Solved at"]
    assert match_headers(headers, COMPLAINTS).mapping == {
        "Status": "status", "ID": "complaint_id", "Requester email": "email",
        "Created at": "opened_at", "Solved at": "resolved_at"}
    # a real ticket number beats a bare ID
    assert match_headers(["ID", "Ticket Number"], COMPLAINTS).mapping == {
        "Ticket Number": "complaint_id"}


@pytest.mark.parametrize("headers, expected", [
    # Stripe invoices
    (["id", "Customer Name", "Customer", "Amount Due", "Amount Paid", "Date (UTC)", "Number",
      "Paid At (UTC)"],
     {"Customer": "customer_id", "Amount Paid": "amount", "Date (UTC)": "order_date",
      "Number": "order_id"}),
    # Paraşüt sales invoices (API field names)
    (["invoice_id", "issue_date", "net_total", "gross_total", "currency"],
     {"invoice_id": "order_id", "issue_date": "order_date", "gross_total": "amount"}),
    # Trendyol orders (no customer id: the e-mail is the key)
    (["Sipariş Numarası", "Sipariş Tarihi", "E-Posta", "Satış Tutarı", "İndirim Tutarı",
      "Faturalanacak Tutar"],
     {"Sipariş Numarası": "order_id", "Sipariş Tarihi": "order_date",
      "E-Posta": "email", "Faturalanacak Tutar": "amount"}),
    # WooCommerce "Advanced Order Export" default
    (["Order Number", "Order Status", "Order Date", "Email (Billing)", "Order Line Total",
      "Order Line Total (- Refund)", "Order Total Amount"],
     {"Order Number": "order_id", "Order Status": "status", "Order Date": "order_date",
      "Email (Billing)": "email", "Order Total Amount": "amount"}),
    # Exact Online invoices
    (["InvoiceNumber", "InvoiceDate", "OrderedBy", "AmountDC", "VATAmountDC"],
     {"InvoiceNumber": "order_id", "InvoiceDate": "order_date", "OrderedBy": "customer_id",
      "AmountDC": "amount"}),
    # bol.com legacy order CSV
    (["bestelnummer", "besteldatum", "emailadres", "Bedrag incl btw"],
     {"bestelnummer": "order_id", "besteldatum": "order_date", "emailadres": "email",
      "Bedrag incl btw": "amount"}),
])
def test_real_export_headers_map(headers, expected):
    mapping = match_headers(headers, PURCHASES).mapping
    assert {h: c for h, c in mapping.items() if c in expected.values()} == expected


@pytest.mark.parametrize("headers, expected", [
    (["Ticket ID", "Email", "Created time (UTC)", "Closed time"],
     {"Ticket ID": "complaint_id", "Email": "email", "Created time (UTC)": "opened_at",
      "Closed time": "resolved_at"}),
    (["conversation_id", "message_author_email", "conversation_created_at",
      "conversation_closed_at"],
     {"conversation_id": "complaint_id", "conversation_created_at": "opened_at",
      "conversation_closed_at": "resolved_at"}),
    (["Talep No", "Müşteri No", "Talep Tarihi - Saat", "Kapanma Tarihi"],
     {"Talep No": "complaint_id", "Müşteri No": "customer_id",
      "Talep Tarihi - Saat": "opened_at", "Kapanma Tarihi": "resolved_at"}),
])
def test_complaint_headers_from_several_systems_map(headers, expected):
    assert match_headers(headers, COMPLAINTS).mapping == expected


def test_every_documented_priority_names_a_canonical_column():
    assert set(PRIORITIES) <= PURCHASES | COMPLAINTS | CUSTOMERS


def _read(tmp_path, text: str, name: str = "purchases/x.csv"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return read_export(path, path.parent.name, SourceRule(), "UTC", NOW)


def test_an_amount_with_its_currency_stages_and_the_reading_keeps_the_unit(tmp_path):
    result = _read(tmp_path, "Müşteri No;Sipariş No;Tarih;Tutar (TL);Net Tutar\n"
                             "00123;S-1;05.03.2024;1.234,56;1.000,00\n")
    assert result.staged["amount"].tolist() == [1234.56]
    assert result.reading.columns["Tutar (TL)"] == "amount"
    assert result.reading.notes == {"Tutar (TL)": ["currency TL"]}
    assert result.reading.runners_up == {"amount": ["Net Tutar"]}


def test_a_zendesk_view_with_requester_email_but_no_id_stages(tmp_path):
    result = _read(tmp_path, "ID,Subject,Requester,Requester email,Status,Created at,Solved at\n"
                             "17,Late,Ann,Ann@X.nl,solved,2024-01-01 10:00:00,"
                             "2024-01-02 10:00:00\n", "complaints/view.csv")
    assert result.reading.preset == "zendesk"
    assert result.staged["email"].tolist() == ["ann@x.nl"]  # case-folded: a key
    assert result.staged["complaint_id"].tolist() == ["17"]


def test_missing_columns_list_the_closest_headers_and_the_sources_yaml_entry(tmp_path):
    with pytest.raises(MissingColumnsError) as caught:
        _read(tmp_path, "Klant code,Datum,Bestelling,Bedragg\n1,2024-01-01,A,1\n")
    message = str(caught.value)
    assert isinstance(caught.value, StagingError)
    assert message.startswith("missing required column(s) customer_id, order_id, amount "
                              "(found: Klant code, Datum, Bestelling, Bedragg)")
    assert "closest headers: customer_id: Klant code, Bestelling; order_id: Bestelling; " \
           "amount: Bedragg" in message
    snippet = yaml.safe_load(message[message.index("files:"):])
    assert snippet == {"files": [{"pattern": "purchases/x.csv", "columns": {
        "Klant code": "customer_id", "Bestelling": "order_id", "Bedragg": "amount"}}]}
    assert caught.value.missing == ["customer_id", "order_id", "amount"]
    assert caught.value.mapping == {"Datum": "order_date"}


def test_a_missing_column_without_any_close_header_gets_a_placeholder(tmp_path):
    with pytest.raises(MissingColumnsError) as caught:
        _read(tmp_path, "Customer ID,Order ID,Date,Zzz\n1,A,2024-01-01,1\n")
    message = str(caught.value)
    assert "closest headers: amount: no close header" in message
    snippet = yaml.safe_load(message[message.index("files:"):])
    assert snippet["files"][0]["columns"] == {"<your header for amount>": "amount"}
