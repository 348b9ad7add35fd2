"""Reading bytes: encodings by scoring candidates, delimiters, title and footer rows."""

from __future__ import annotations

import pytest

from pipelines.ingest.headers import is_known_header
from pipelines.ingest.readers import decode_bytes, encoding_score, read_csv_cells, sniff_delimiter
from pipelines.ingest.staging import StagingError

TURKISH = "Müşteri Adı;Tutar\nŞükrü Işık;1.234,56\nİpek Doğan;12,00\n"


@pytest.mark.parametrize("data, encoding", [
    (TURKISH.encode("cp1254"), "cp1254"),
    (TURKISH.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TURKISH.encode("utf-8"), "utf-8-sig"),
    (TURKISH.encode("utf-16"), "utf-16"),
    ("Naam;Bedrag\nCafé Één;€ 1,00\n".encode("cp1252"), "cp1252"),
])
def test_encoding_chosen_by_scoring_candidates(data, encoding):
    text, used = decode_bytes(data)
    assert used == encoding and ("Şükrü" in text or "Café" in text)


def test_mojibake_scores_below_the_right_reading():
    assert encoding_score("Müşteri Adı") > encoding_score("Müþteri Adý")
    assert encoding_score("Müşteri") > encoding_score("MÃ¼ÅŸteri")


@pytest.mark.parametrize("garbled, note", [
    ("Müşteri Adı;Tutar\nŞükrü Işık;1,00\n".encode("cp1254").decode("latin-1"),
     "utf-8 (repaired: cp1254 once read as latin-1)"),
    ("Müşteri Adı;Tutar\nŞükrü Işık;1,00\n".encode().decode("cp1252"),
     "utf-8 (repaired: utf-8 once read as cp1252)"),
])
def test_text_garbled_by_an_earlier_tool_is_repaired(garbled, note):
    text, used = decode_bytes(garbled.encode("utf-8"))
    assert text.startswith("Müşteri Adı;Tutar\nŞükrü Işık") and used == note


def test_a_forced_encoding_that_cannot_decode_is_a_clear_error():
    with pytest.raises(StagingError, match="cannot decode as utf-8"):
        decode_bytes(TURKISH.encode("cp1254"), "utf-8")


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiter_sniffed_even_with_decimal_commas_in_cells(sep):
    lines = [sep.join(["id", "amount", "date"]), sep.join(["1", '"1,5"', "2024-01-01"]),
             sep.join(["2", '"2,5"', "2024-01-02"])]
    assert sniff_delimiter(lines) == sep


def test_title_rows_blank_lines_and_total_row_are_set_aside_with_lines_kept():
    text = ("Satış Raporu;;\nDönem: 2024;;\nCari Kod;Tutar;Tarih\n00123;1,00;5.03.2024\n"
            ";;\n00124;2,00;6.03.2024\nGenel Toplam;3,00;\n")
    table = read_csv_cells(text.encode("cp1254"), is_known_header)
    assert table.headers == ["Cari Kod", "Tutar", "Tarih"] and table.header_line == 3
    assert table.frame["Cari Kod"].tolist() == ["00123", "00124"]
    assert table.lines == [4, 6]
    assert table.skipped == {"title rows above the header": 2, "blank lines": 1,
                             "total/footer rows": 1}
