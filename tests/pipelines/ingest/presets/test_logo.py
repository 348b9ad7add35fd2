"""Logo's invoice table (`LG_fff_pp_INVOICE`) by TRCODE (the caption reports: test_corpus.py)."""

from __future__ import annotations

from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule
from tests.pipelines.ingest.presets.conftest import NOW, staged, utc


def test_logo_invoice_table_sales_returns_and_cancellations_by_trcode(raw):
    result = staged(raw, "purchases/logo_lg_invoice.csv", "Europe/Istanbul")
    reading = result.reading
    assert (reading.preset, reading.locale, reading.encoding, reading.delimiter) == (
        "logo-db", "tr", "cp1254", ";")
    assert reading.id_space == ""  # CLCARD.CODE is the cari code
    assert reading.columns["CLIENTREF"] == "customer key (logo id)"
    frame = result.staged
    # a return carries its own number series: `İADE-000045` never meets sale `000045`
    assert frame["order_id"].tolist() == ["SF-000123", "İADE-000045", "000045", "000046",
                                          "İADE-000007", "HZ-0001"]
    assert frame["amount"].tolist() == [2400.0, 1200.0, 99.9, 50.0, 19.9, 350.0]
    assert frame["status"].tolist() == ["completed", "returned", "completed", "cancelled",
                                        "returned", "completed"]
    assert frame["customer_id"].tolist() == ["120.01.001", "120.01.001", "00042", "00042",
                                             "00042", "120.01.001"]
    assert frame["_id:logo"].tolist() == ["15", "15", "16", "16", "16", "15"]
    assert frame["order_date"].iloc[0] == utc("2024-03-04 21:00")  # 5 March in Istanbul
    reasons = result.quarantined.set_index("_source_line")["reason"].to_dict()
    assert reasons == {
        8: "purchase-side invoice (TRCODE 1 Satınalma), not a sale",
        9: "proforma invoice (TRCODE 10 Verilen Proforma), not a sale",
        10: "sales price-difference invoice (TRCODE 14 Satış Fiyat Farkı), not a purchase",
        11: "TRCODE 38 is not an LG_INVOICE sales or sales-return type (a cari ledger code?)",
    }
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (10, 6, 4)
    assert account.balanced


def test_logo_invoice_table_with_turkish_aliases_and_only_clientref(tmp_path):
    path = tmp_path / "purchases" / "faturalar.csv"
    path.parent.mkdir()
    path.write_text("Tarih;Fiş No;CLIENTREF;TRCODE;Tutar;İptal\n"
                    "05.03.2024;F-1;15;8;1.234,56;0\n"
                    "06.03.2024;F-1;15;3;234,56;0\n"
                    "07.03.2024;F-2;16;7;99,90;1\n", encoding="utf-8")
    result = read_export(path, "purchases", SourceRule(timezone="Europe/Istanbul"), "UTC", NOW)
    assert (result.reading.preset, result.reading.id_space) == ("logo-db", "logo")
    frame = result.staged
    assert frame["order_id"].tolist() == ["F-1", "İADE-F-1", "F-2"]
    assert frame["amount"].tolist() == [1234.56, 234.56, 99.9]
    assert frame["status"].tolist() == ["completed", "returned", "cancelled"]
    assert frame["customer_id"].tolist() == ["15", "15", "16"]  # Logo's own record numbers
    assert frame["order_date"].tolist() == [utc("2024-03-04 21:00"), utc("2024-03-05 21:00"),
                                            utc("2024-03-06 21:00")]
