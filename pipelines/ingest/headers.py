"""Header spellings: folding a header to its comparable form, and the English, Turkish and
Dutch synonyms of every canonical column.

Pure: `churn ingest` maps a file's headers through `map_headers`; `sources.yaml`
(`pipelines.ingest.sources_file`) can pin any mapping instead.
"""

from __future__ import annotations

import re
import unicodedata


def fold_header(name: str) -> str:
    """Lower-case, Turkish-dotless-safe, accent- and punctuation-free form of a header."""
    text = name.replace("İ", "i").replace("I", "i").replace("ı", "i").lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text)


# canonical column -> {language: spellings}. Spellings are folded before matching.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customer_id": {
        "en": ("Customer ID", "Customer", "Client ID", "Customer Number", "Customer No",
               "Account ID", "AccountId", "Requester ID", "Record ID", "Contact ID"),
        "tr": ("Cari Kod", "Cari Kodu", "Müşteri No", "Müşteri Kodu", "Müşteri ID",
               "Müşteri Numarası", "CARI_KOD"),
        "nl": ("Klantnummer", "Klant ID", "Debiteurnummer", "Debiteur", "Relatienummer"),
    },
    "order_id": {
        "en": ("Order ID", "Order Number", "Order No", "Invoice Number", "Invoice No"),
        "tr": ("Fiş No", "Sipariş No", "Sipariş Numarası", "Fatura No", "Belge No", "BELGE_NO"),
        "nl": ("Ordernummer", "Bestelnummer", "Factuurnummer"),
    },
    "order_date": {
        "en": ("Order Date", "Date", "Invoice Date", "Purchase Date"),
        "tr": ("Tarih", "Sipariş Tarihi", "Fatura Tarihi", "İşlem Tarihi", "TARIH"),
        "nl": ("Orderdatum", "Besteldatum", "Factuurdatum", "Datum"),
    },
    "amount": {
        "en": ("Amount", "Total", "Order Total", "Net Amount", "Revenue"),
        "tr": ("Tutar", "Toplam Tutar", "Net Tutar", "Toplam", "Fatura Tutarı"),
        "nl": ("Bedrag", "Totaalbedrag", "Bedrag incl. btw", "Bedrag excl. btw", "Omzet"),
    },
    "status": {
        "en": ("Status", "Order Status", "State"),
        "tr": ("Durum", "Sipariş Durumu"),
        "nl": ("Orderstatus", "Bestelstatus"),
    },
    "quantity": {
        "en": ("Quantity", "Qty", "Items"),
        "tr": ("Miktar", "Adet"),
        "nl": ("Aantal", "Hoeveelheid"),
    },
    "channel": {
        "en": ("Channel", "Sales Channel", "Source", "Origin"),
        "tr": ("Kanal", "Satış Kanalı"),
        "nl": ("Kanaal", "Verkoopkanaal"),
    },
    "complaint_id": {
        "en": ("Complaint ID", "Ticket ID", "Ticket Number", "Case Number", "CaseNumber"),
        "tr": ("Şikayet No", "Talep No", "Kayıt No"),
        "nl": ("Klachtnummer", "Ticketnummer"),
    },
    "opened_at": {
        "en": ("Opened At", "Created At", "Created Time", "Created Date", "CreatedDate",
               "Opened"),
        "tr": ("Açılış Tarihi", "Oluşturma Tarihi", "Şikayet Tarihi"),
        "nl": ("Aangemaakt op", "Geopend op", "Klachtdatum"),
    },
    "resolved_at": {
        "en": ("Resolved At", "Solved At", "Resolved Time", "Closed Date", "ClosedDate"),
        "tr": ("Çözüm Tarihi", "Kapanış Tarihi"),
        "nl": ("Opgelost op", "Gesloten op"),
    },
    "category": {
        "en": ("Category", "Ticket Category", "Reason", "Type"),
        "tr": ("Kategori", "Şikayet Türü", "Konu"),
        "nl": ("Categorie", "Soort klacht"),
    },
    "satisfaction": {
        "en": ("Satisfaction", "CSAT", "Satisfaction Score", "Survey results", "Rating"),
        "tr": ("Memnuniyet", "Memnuniyet Puanı"),
        "nl": ("Tevredenheid", "Klanttevredenheid", "Beoordeling"),
    },
    "interaction_id": {
        "en": ("Interaction ID", "Activity ID", "Event ID"),
        "tr": ("Etkileşim No",),
        "nl": ("Interactienummer",),
    },
    "occurred_at": {
        "en": ("Occurred At", "Timestamp", "Event Time", "Activity Date"),
        "tr": ("Zaman", "Etkileşim Tarihi"),
        "nl": ("Tijdstip", "Activiteitsdatum"),
    },
    "type": {"en": ("Event Type", "Activity Type"), "tr": ("Tür", "Tip"), "nl": ("Soort",)},
    "direction": {"en": ("Direction",), "tr": ("Yön",), "nl": ("Richting",)},
    "name": {
        "en": ("Name", "Customer Name", "Company", "Account Name"),
        "tr": ("Cari Ad", "Cari Adı", "Müşteri Adı", "Ünvan", "CARI_ISIM"),
        "nl": ("Naam", "Klantnaam", "Bedrijfsnaam"),
    },
    "email": {"en": ("Email", "E-mail", "Email Address"), "tr": ("E-posta",),
              "nl": ("E-mailadres",)},
    "signup_date": {
        "en": ("Signup Date", "Created", "Customer Since", "Create Date"),
        "tr": ("Kayıt Tarihi", "Açılış Tarihi"),
        "nl": ("Inschrijfdatum", "Klant sinds"),
    },
    "segment": {"en": ("Segment", "Customer Type"), "tr": ("Segment", "Müşteri Tipi"),
                "nl": ("Segment", "Klanttype")},
    "region": {"en": ("Region", "City"), "tr": ("Bölge", "Şehir", "İl"),
               "nl": ("Regio", "Plaats", "Stad")},
    "owner": {"en": ("Owner", "Account Manager", "Sales Rep"),
              "tr": ("Temsilci", "Müşteri Temsilcisi"), "nl": ("Accountmanager", "Eigenaar")},
    "cancelled_at": {"en": ("Cancelled At", "Canceled At", "Churn Date", "Closed At"),
                     "tr": ("İptal Tarihi", "Ayrılış Tarihi"), "nl": ("Opzegdatum",)},
}

#: folded spelling -> [(canonical, language)], all synonym tables and the canonical names.
FOLDED: dict[str, list[tuple[str, str]]] = {}
for _column, _languages in SYNONYMS.items():
    FOLDED.setdefault(fold_header(_column), []).append((_column, "any"))
    for _language, _spellings in _languages.items():
        for _spelling in _spellings:
            FOLDED.setdefault(fold_header(_spelling), []).append((_column, _language))


def is_known_header(text: str) -> bool:
    return fold_header(text) in FOLDED


def header_language(headers: list[str]) -> str | None:
    """'tr' or 'nl' when the headers are written in that language, else None."""
    votes = {"tr": 0, "nl": 0}
    for header in headers:
        for _, language in FOLDED.get(fold_header(header), []):
            if language in votes:
                votes[language] += 1
    best = max(votes, key=votes.__getitem__)
    return best if votes[best] else None


def map_headers(headers: list[str], allowed: set[str],
                pinned: dict[str, str] | None = None) -> dict[str, str]:
    """File header -> canonical column, for columns in `allowed`; each target used once,
    pinned mappings first, then exact canonical names, then synonyms in header order."""
    mapping: dict[str, str] = {}
    for header, target in (pinned or {}).items():
        if header in headers and target in allowed:
            mapping[header] = target
    for exact_pass in (True, False):
        for header in headers:
            if header in mapping:
                continue
            for target, language in FOLDED.get(fold_header(header), []):
                if (language == "any") != exact_pass:
                    continue
                if target in allowed and target not in mapping.values():
                    mapping[header] = target
                    break
    return mapping
