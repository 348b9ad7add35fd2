"""Trendyol, Hepsiburada and bol.com presets on the fixture corpus: exact staged values."""

from __future__ import annotations

import pandas as pd

from pipelines.ingest.presets.marketplaces import trendyol_orders
from tests.pipelines.ingest.presets.conftest import staged, utc


def test_trendyol_lines_fold_per_order_and_packages_net_out(raw):
    result = staged(raw, "purchases/trendyol_siparisler.xlsx", "Europe/Istanbul")
    reading = result.reading
    assert (reading.preset, reading.locale, reading.file_type, reading.header_line) == (
        "trendyol", "tr", "xlsx", 2)
    assert result.account.skipped_lines == {"title rows above the header": 1}
    frame = result.staged.set_index("order_id")
    # 1.154 + 46,83 (billed, after discount); 1002: the returned package is netted out
    assert frame["amount"].to_dict() == {"1001": 1200.83, "1002": 250.0, "1003": 75.0,
                                         "1004": 2.17}
    assert frame["status"].to_dict() == {"1001": "completed", "1002": "completed",
                                         "1003": "cancelled", "1004": "returned"}
    assert frame["quantity"].to_dict() == {"1001": 3.0, "1002": 1.0, "1003": 1.0, "1004": 1.0}
    # the relay address, lower-cased: the same buyer across orders
    assert frame["customer_id"].to_dict() == {
        "1001": "pf+abc123@trendyolmail.com", "1002": "pf+x9y8z7@trendyolmail.com",
        "1003": "pf+abc123@trendyolmail.com", "1004": "pf+q1w2e3@trendyolmail.com"}
    assert frame.loc["1001", "order_date"] == utc("2024-03-05 11:30")  # 14:30 in Istanbul
    assert result.quarantined.set_index("_source_line")["reason"].to_dict() == {
        9: "no customer key (no E-Posta: Trendyol exports no customer id)"}
    account = result.account
    assert (account.rows_read, account.staged, account.merged, account.quarantined) == (
        7, 4, 2, 1)
    assert account.balanced


def test_trendyol_never_reads_export_time_columns(raw):
    columns = staged(raw, "purchases/trendyol_siparisler.xlsx").reading.columns
    assert not {"Müşteri Sipariş Adedi", "Yaş", "Cinsiyet", "2.Teslimat Paketi Statüsü",
                "Satış Tutarı"} & set(columns)
    assert columns["Sipariş Statüsü"].startswith("status (export-time")


def test_hepsiburada_line_rows_fold_per_order_keyed_by_buyer_mail(raw):
    result = staged(raw, "purchases/hepsiburada_siparisler.csv", "Europe/Istanbul")
    reading = result.reading
    assert (reading.preset, reading.locale, reading.encoding, reading.delimiter) == (
        "hepsiburada", "tr", "utf-8", ";")
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"4123456789": 1349.8, "4123456790": 120.0,
                                         "4123456791": 45.0}  # 1.299,90 + 49,90
    assert frame["status"].to_dict() == {"4123456789": "completed",
                                         "4123456790": "cancelled",
                                         "4123456791": "completed"}  # Hazırlanıyor
    assert frame["quantity"].to_dict() == {"4123456789": 3.0, "4123456790": 1.0,
                                           "4123456791": 3.0}
    assert frame["customer_id"].tolist() == ["cagri.ozturk@example.com",
                                             "ayse.kilic@example.com", "ayse.kilic@example.com"]
    assert frame.loc["4123456789", "order_date"] == utc("2024-03-05 07:15")
    assert "Müşteri Tipi" not in reading.columns
    assert result.quarantined["reason"].tolist() == [
        "no customer key (no Alıcı Mail Adresi: Hepsiburada exports no customer id)"]
    account = result.account
    assert (account.rows_read, account.staged, account.merged, account.quarantined) == (
        5, 3, 1, 1)


def test_bol_order_lines_fold_per_bestelnummer(raw):
    result = staged(raw, "purchases/bol_bestellingen.csv", "Europe/Amsterdam")
    assert (result.reading.preset, result.reading.locale) == ("bol", "nl")
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"1043965710": 32.49, "1043965711": 32.0}
    assert frame["quantity"].to_dict() == {"1043965710": 4.0, "1043965711": 1.0}
    assert frame["customer_id"].tolist() == ["anouk@example.nl", "jan@jansen.nl"]
    assert set(frame["status"]) == {"completed"}
    # ISO with T, naive: local time (CET after the October switch, CEST before)
    assert frame["order_date"].tolist() == [utc("2024-03-05 13:30"), utc("2024-10-27 11:30")]
    assert result.quarantined["reason"].tolist() == [
        "no customer key (no emailadres: bol.com exports no customer id)"]
    account = result.account
    assert (account.rows_read, account.staged, account.merged, account.quarantined) == (
        4, 2, 1, 1)


def test_unknown_package_status_and_unreadable_amounts_reach_staging_unguessed():
    frame = pd.DataFrame({
        "Sipariş Numarası": ["1", "1", "2", "3"], "Paket No": ["a", "b", "c", "d"],
        "Sipariş Tarihi": ["05.03.2024 10:00"] * 4,
        "Sipariş Statüsü": ["Delivered", "Bilinmeyen", "İptal", "Shipped"],
        "E-Posta": ["x@y.tr", "x@y.tr", "z@y.tr", "q@y.tr"],
        "Faturalanacak Tutar": ["10,00", "5,00", "", "yok"]})
    result = trendyol_orders(frame, [2, 3, 4, 5], "tr")
    out = result.frame.set_index("order_id")
    # the unknown word is kept (staging quarantines "unknown order status"), over all lines
    assert out.loc["1", "status"] == "Bilinmeyen" and out.loc["1", "amount"] == 15.0
    assert out.loc["2", "_reason"] == "no amount (Faturalanacak Tutar is empty)"
    assert out.loc["3", "amount"] == "yok"  # staging: "amount is not a number"
    assert result.merged == 1
