"""Header synonyms (English, Turkish, Dutch) and the optional `sources.yaml` mapping file.

`sources.yaml` in the data dir pins, per file pattern (glob against `<kind>/<file name>`):

    files:
      - pattern: "purchases/logo_*.csv"
        kind: purchases          # where the file's rows go (default: its folder)
        preset: logo             # or shopify, zendesk, freshdesk, netsis, woocommerce,
                                 # hubspot-engagements, hubspot-contacts, none
        encoding: cp1254         # wins over detection
        delimiter: ";"
        locale: tr               # en, tr or nl: decimal comma and day-first dates for tr/nl
        timezone: Europe/Istanbul  # naive timestamps are local times here
        columns: {Müşteri: customer_id}   # header -> canonical column
        date_formats: {order_date: dd.MM.yyyy}  # pins the one accepted shape
        statuses: {Bezorgd: completed}  # extra order status words

The first matching entry wins; keys left out are detected.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines.locales import DATE_FORMAT_NAMES, LOCALES
from pipelines.staging import fold_header

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
    best = max(votes, key=votes.get)
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


@dataclass(frozen=True)
class SourceRule:
    """What `sources.yaml` pins for the files matching `pattern` (None: detect)."""

    pattern: str = "*"
    kind: str | None = None
    preset: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    locale: str | None = None
    timezone: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)


class MappingFileError(ValueError):
    """`sources.yaml` is not valid; the message says where."""


def load_rules(path: Path) -> list[SourceRule]:
    """The rules of a `sources.yaml` (none when the file does not exist)."""
    if not path.exists():
        return []
    try:
        payload = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise MappingFileError(f"{path.name}: not valid YAML ({error})") from None
    entries = payload.get("files", []) if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise MappingFileError(f"{path.name}: expected a top-level `files:` list")
    rules = []
    known = set(SourceRule.__dataclass_fields__)
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "pattern" not in entry:
            raise MappingFileError(f"{path.name}: entry {number} needs a `pattern`")
        unknown = set(entry) - known
        if unknown:
            raise MappingFileError(
                f"{path.name}: entry {number} has unknown key(s) {', '.join(sorted(unknown))}")
        rule = SourceRule(**{k: (str(v) if not isinstance(v, dict) else
                                 {str(a): str(b) for a, b in v.items()})
                             for k, v in entry.items()})
        if rule.locale is not None and rule.locale not in LOCALES:
            raise MappingFileError(f"{path.name}: entry {number}: locale must be one of "
                                   f"{', '.join(LOCALES)}")
        bad_formats = set(rule.date_formats.values()) - set(DATE_FORMAT_NAMES)
        if bad_formats:
            raise MappingFileError(f"{path.name}: entry {number}: date format(s) "
                                   f"{', '.join(sorted(bad_formats))} not among "
                                   f"{', '.join(DATE_FORMAT_NAMES)}")
        rules.append(rule)
    return rules


def rule_for(rules: list[SourceRule], relative: str) -> SourceRule:
    """The first rule whose pattern matches `<kind>/<file>`, else an all-detect rule."""
    for rule in rules:
        if fnmatch.fnmatch(relative, rule.pattern) or fnmatch.fnmatch(
                relative.split("/")[-1], rule.pattern):
            return rule
    return SourceRule()
