"""Header spellings: folding a header to its comparable form, and the English, Turkish and
Dutch synonyms of every canonical column.

Pure: `churn ingest` maps a file's headers through `match_headers` (`map_headers` is its
mapping alone); `sources.yaml` (`pipelines.ingest.sources_file`) can pin any mapping instead.

Headers as people write them carry units, currencies and notes: `Amount (EUR)`, `Bedrag [€]`,
`Toplam Tutar - KDV Dahil`, `Sipariş Tutarı, TL`, `Net amount:`, `Created (UTC)`, `1. Date`,
`Date 2`. `split_header` takes those off (the *core* is matched when the whole header is not a
synonym) and keeps them as notes (`currency TL`, `incl. VAT`, `time zone UTC`) on the mapping.

When several headers could fill one column, `match_headers` chooses by `PRIORITIES` (documented
there) and keeps the runners-up for `churn ingest --explain`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field


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
               "Account ID", "AccountId", "Requester ID", "Record ID", "Contact ID",
               "Customer Code", "Client Number", "Customer Reference", "Member ID",
               "Requester external ID", "Ordered By"),
        "tr": ("Cari Kod", "Cari Kodu", "Müşteri No", "Müşteri Kodu", "Müşteri ID",
               "Müşteri Numarası", "CARI_KOD", "Cari Hesap Kodu", "Cari No", "cha_kod"),
        "nl": ("Klantnummer", "Klant ID", "Debiteurnummer", "Debiteur", "Relatienummer",
               "Klantnr", "Klant nr", "Debiteurnr", "Debiteurcode", "Relatiecode"),
    },
    "order_id": {
        "en": ("Order ID", "Order Number", "Order No", "Invoice Number", "Invoice No",
               "Invoice ID", "Order Reference", "Receipt Number", "Document Number"),
        "tr": ("Fiş No", "Sipariş No", "Sipariş Numarası", "Fatura No", "Belge No", "BELGE_NO",
               "Fatura Numarası", "Fiş Numarası", "Belge Numarası", "Evrak No", "FATIRS_NO",
               "cha_belge_no"),
        "nl": ("Ordernummer", "Bestelnummer", "Factuurnummer", "Ordernr", "Order nr",
               "Bestelnr", "Factuurnr"),
    },
    "order_date": {
        "en": ("Order Date", "Date", "Invoice Date", "Purchase Date", "Issue Date",
               "Transaction Date", "Sale Date", "Document Date"),
        "tr": ("Tarih", "Sipariş Tarihi", "Fatura Tarihi", "İşlem Tarihi", "TARIH",
               "Fiş Tarihi", "Belge Tarihi", "Evrak Tarihi", "cha_tarihi"),
        "nl": ("Orderdatum", "Besteldatum", "Factuurdatum", "Datum", "Verkoopdatum",
               "Boekdatum"),
    },
    "amount": {
        "en": ("Amount", "Total", "Order Total", "Net Amount", "Revenue", "Gross Amount",
               "Gross Total", "Grand Total", "Order Total Amount", "Total Amount", "Net Total",
               "Amount Paid", "Invoice Total", "Invoice Amount", "Order Amount", "AmountDC"),
        "tr": ("Tutar", "Toplam Tutar", "Net Tutar", "Toplam", "Fatura Tutarı",
               "Sipariş Tutarı", "Faturalanacak Tutar", "Satış Tutarı", "Genel Toplam",
               "cha_meblag"),
        "nl": ("Bedrag", "Totaalbedrag", "Bedrag incl. btw", "Bedrag excl. btw", "Omzet",
               "Totaal", "Totaalprijs", "Factuurbedrag", "Orderbedrag"),
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
        "en": ("Complaint ID", "Ticket ID", "Ticket Number", "Case Number", "CaseNumber",
               "Ticket No", "Ticket #", "Case ID", "Conversation ID", "Request ID",
               "conversation_id"),
        "tr": ("Şikayet No", "Talep No", "Kayıt No", "Talep Numarası", "Destek No"),
        "nl": ("Klachtnummer", "Ticketnummer", "Ticketnr", "Zaaknummer"),
    },
    "opened_at": {
        "en": ("Opened At", "Created At", "Created Time", "Created Date", "CreatedDate",
               "Opened", "Created On", "Date Opened", "conversation_created_at"),
        "tr": ("Açılış Tarihi", "Oluşturma Tarihi", "Şikayet Tarihi", "Talep Tarihi"),
        "nl": ("Aangemaakt op", "Geopend op", "Klachtdatum", "Datum aangemaakt"),
    },
    "resolved_at": {
        "en": ("Resolved At", "Solved At", "Resolved Time", "Closed Date", "ClosedDate",
               "Resolved", "Closed On", "Date Closed", "conversation_closed_at"),
        "tr": ("Çözüm Tarihi", "Kapanış Tarihi", "Kapanma Tarihi"),
        "nl": ("Opgelost op", "Gesloten op", "Afgesloten op"),
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
    # e-mail and phone are customer keys of their own in every kind (`pipelines.ingest.keys`)
    "email": {
        "en": ("Email", "E-mail", "Email Address", "Requester email", "Customer Email",
               "Contact email", "Billing Email", "Email (Billing)", "Buyer Email",
               "Customer E-mail"),
        "tr": ("E-posta", "E-posta Adresi", "Alıcı Mail Adresi", "Müşteri E-posta",
               "Mail Adresi", "Eposta"),
        "nl": ("E-mailadres", "Emailadres", "E-mail adres", "Mailadres"),
    },
    "phone": {
        "en": ("Phone", "Phone Number", "Telephone", "Mobile", "Mobile phone", "Mobile Number",
               "Work phone", "Cell phone", "Phone (Billing)", "Billing Phone", "Contact phone",
               "Requester phone", "Customer Phone"),
        "tr": ("Telefon", "Telefon No", "Telefon Numarası", "Cep Telefonu", "Cep Tel", "GSM",
               "GSM No", "Müşteri Telefon No", "Alıcı Telefon"),
        "nl": ("Telefoon", "Telefoonnummer", "Mobiel", "Mobiel nummer", "Mobiele nummer",
               "Telnummer", "telnummerbezorging"),
    },
    "signup_date": {
        "en": ("Signup Date", "Created", "Customer Since", "Create Date"),
        "tr": ("Kayıt Tarihi", "Açılış Tarihi"),
        "nl": ("Inschrijfdatum", "Klant sinds"),
    },
    "segment": {"en": ("Segment", "Customer Type"), "tr": ("Segment", "Müşteri Tipi"),
                "nl": ("Segment", "Klanttype")},
    "region": {"en": ("Region", "City"), "tr": ("Bölge", "Şehir", "İl"),
               "nl": ("Regio", "Plaats", "Stad")},
    "owner": {"en": ("Owner", "Account Manager", "Sales Rep", "Agent", "Called By"),
              "tr": ("Temsilci", "Müşteri Temsilcisi"), "nl": ("Accountmanager", "Eigenaar")},
    "cancelled_at": {"en": ("Cancelled At", "Canceled At", "Churn Date", "Closed At"),
                     "tr": ("İptal Tarihi", "Ayrılış Tarihi"), "nl": ("Opzegdatum",)},
    # subscriptions (billing exports: Stripe, Chargebee, iyzico, Mollie and their translations)
    "subscription_id": {"en": ("Subscription ID", "Subscription", "Subscription Reference",
                               "Contract ID", "Contract Number"),
                        "tr": ("Abonelik No", "Abonelik ID", "Abonelik Kodu", "Sözleşme No"),
                        "nl": ("Abonnementsnummer", "Abonnement ID", "Contractnummer")},
    "plan": {"en": ("Plan", "Plan Name", "Plan ID", "Product", "Package", "Pricing Plan"),
             "tr": ("Plan Adı", "Paket", "Paket Adı", "Ürün"),
             "nl": ("Abonnementsvorm", "Pakket", "Product", "Plannaam")},
    "started_at": {"en": ("Start", "Start Date", "Started At", "Activated At",
                          "Subscription Start", "Start Date (UTC)"),
                   "tr": ("Başlangıç Tarihi", "Abonelik Başlangıcı", "Başlangıç"),
                   "nl": ("Startdatum", "Ingangsdatum", "Begindatum")},
    "ended_at": {"en": ("Ended At", "End Date", "Ended", "Termination Date"),
                 "tr": ("Bitiş Tarihi", "Sona Erme Tarihi"),
                 "nl": ("Einddatum", "Beëindigd op", "Stopdatum")},
    "billing_period": {"en": ("Interval", "Billing Period", "Billing Interval",
                              "Billing Cycle", "Billing Frequency", "Plan Interval"),
                       "tr": ("Ödeme Periyodu", "Faturalama Dönemi", "Periyot"),
                       "nl": ("Factuurperiode", "Betaaltermijn", "Termijn", "Interval")},
    "mrr": {"en": ("MRR", "Monthly Recurring Revenue", "Monthly Amount"),
            "tr": ("Aylık Tutar", "Aylık Gelir", "Aylık Yinelenen Gelir"),
            "nl": ("Maandbedrag", "Maandelijkse Omzet", "MRR")},
    "seats": {"en": ("Quantity", "Seats", "Licenses", "Users", "Plan Quantity"),
              "tr": ("Kullanıcı Sayısı", "Lisans Sayısı", "Adet"),
              "nl": ("Aantal Gebruikers", "Licenties", "Aantal")},
    "discount": {"en": ("Discount", "Discount Amount", "Coupon Amount"),
                 "tr": ("İndirim", "İndirim Tutarı"), "nl": ("Korting", "Kortingsbedrag")},
    "discount_ends_at": {"en": ("Discount End", "Discount Ends At", "Coupon End",
                                "Discount End Date"),
                         "tr": ("İndirim Bitiş Tarihi",), "nl": ("Korting tot", "Einde korting")},
    # actions (the team's retention log: a CRM call log, a campaign export, the risk list
    # filled in; the list's own headers in en/tr/nl are among them)
    "action_id": {"en": ("Action ID", "Call ID", "Activity ID", "Log ID"),
                  "tr": ("Aksiyon No", "Arama No"), "nl": ("Actienummer", "Gesprek ID")},
    "action_at": {"en": ("Action Date", "Action At", "Date Contacted", "Contacted At",
                         "Call Date", "Call Time", "Sent At", "Send Date", "Activity Date"),
                  "tr": ("Aksiyon Tarihi", "Arama Tarihi", "İletişim Tarihi", "Gönderim Tarihi"),
                  "nl": ("Actiedatum", "Datum actie", "Belgesprek datum", "Verzenddatum",
                         "Contactdatum")},
    "action": {"en": ("Action", "Action Taken", "Retention Action", "Call Type", "Offer",
                      "Treatment"),
               "tr": ("Yapılan Aksiyon", "Aksiyon", "Teklif"),
               "nl": ("Genomen actie", "Actie", "Aanbod")},
    "outcome": {"en": ("Outcome", "Action Outcome", "Call Outcome", "Result", "Disposition",
                       "Call Result"),
                "tr": ("Sonuç", "Aksiyon Sonucu", "Arama Sonucu"),
                "nl": ("Resultaat", "Uitkomst", "Resultaat actie")},
    "cost": {"en": ("Cost", "Action Cost", "Offer Cost", "Cost of Offer"),
             "tr": ("Maliyet", "Aksiyon Maliyeti"), "nl": ("Kosten", "Kosten actie")},
    "campaign": {"en": ("Campaign", "Campaign Name", "Campaign ID"),
                 "tr": ("Kampanya", "Kampanya Adı"), "nl": ("Campagne", "Campagnenaam")},
    "list_run_id": {"en": ("List Run ID", "List Run", "Risk List Run"),
                    "tr": ("Liste Çalıştırma No",), "nl": ("Lijstrun-ID",)},
    "row_id": {"en": ("Row ID", "List Row ID"), "tr": ("Satır No",), "nl": ("Rij-ID",)},
}

# Spellings that fill a column only when no synonym of it is in the file (ranked below every
# synonym): a bare `ID` as the ticket/event id, a creation time as the order date.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "complaint_id": ("ID", "Id", "Ticket", "Case", "Kayıt"),
    "order_id": ("Number", "Nummer", "Numara", "Reference", "Referentie"),
    "interaction_id": ("ID", "Id"),
    "order_date": ("Created at", "Created", "Date created", "Paid at", "Payment Date",
                   "Oluşturma Tarihi", "Ödeme Tarihi", "Aangemaakt op", "Betaaldatum"),
    "opened_at": ("Requested", "Created", "Date Created", "Date/Time Opened", "Submitted at"),
    "resolved_at": ("Closed time", "Closed at", "Date/Time Closed", "Solved"),
}

#: folded spelling -> [(canonical, language)], all synonym tables and the canonical names.
FOLDED: dict[str, list[tuple[str, str]]] = {}
for _column, _languages in SYNONYMS.items():
    FOLDED.setdefault(fold_header(_column), []).append((_column, "any"))
    for _language, _spellings in _languages.items():
        for _spelling in _spellings:
            FOLDED.setdefault(fold_header(_spelling), []).append((_column, _language))


#: folded fallback spelling -> [canonical]
FOLDED_FALLBACKS: dict[str, list[str]] = {}
for _column, _spellings in FALLBACKS.items():
    for _spelling in _spellings:
        FOLDED_FALLBACKS.setdefault(fold_header(_spelling), []).append(_column)

_CURRENCIES = {"eur", "euro", "€", "tl", "try", "trl", "₺", "usd", "$", "dollar", "gbp", "£",
               "chf", "pln"}
_TAX_WORDS = r"(?:btw|vat|tax|kdv|taxes|vergi)"
_INCL = re.compile(r"\b(?:incl|inclusief|including|inc|with|dahil|gross|brut|bruto|brutto|"
                   r"brüt)\b|\bkdv\s*li\b|\bkdvli\b", re.I)
_EXCL = re.compile(r"\b(?:excl|exclusief|excluding|exc|without|w/o|hariç|haric|net|netto)\b",
                   re.I)
_TAX_PHRASE = re.compile(rf"\s*\b(?:incl|excl|inclusief|exclusief|including|excluding|with|"
                         rf"without|w/o)\.?\s*{_TAX_WORDS}\b\.?|\s*\bkdv\s*(?:dahil|hariç|"
                         rf"haric)\b", re.I)
_BRACKETS = re.compile(r"\s*[(\[{]([^)\]}]*)[)\]}]")
_NUMBER_PREFIX = re.compile(r"^\s*(?:#\s*)?\d{1,2}\s*[.)]\s*")
_NUMBER_SUFFIX = re.compile(r"(?<=[^\d\s])\s+\d{1,2}$")
_SEPARATOR = re.compile(r"\s+[-–—|]\s+|\s*[:,;]\s+|\s*:\s*$")
_ZONES = re.compile(r"^(?:utc|gmt|z|local|cet|cest|trt|[+-]\d{2}:?\d{2}|utc\s*[+-]\s*\d{1,2})$",
                    re.I)


def split_header(name: str) -> tuple[str, list[str]]:
    """(core, notes): the header without bracketed notes, notes after a separator (` - `,
    `, `, `: `), a tax phrase (`incl. btw`), numbering (`1. Date`, `Date 2`) and repeated
    whitespace; `notes` are the removed parts, in order (numbering is not kept)."""
    notes: list[str] = []

    def taken(match: re.Match[str], group: int = 0) -> str:
        notes.append(match.group(group).strip())
        return " "

    text = " ".join(name.split())
    text = _BRACKETS.sub(lambda m: taken(m, 1), text)
    parts = [p for p in _SEPARATOR.split(text) if p and p.strip()]
    text = parts[0] if parts else text
    notes.extend(p.strip() for p in parts[1:])
    text = _TAX_PHRASE.sub(taken, text)
    text = _NUMBER_PREFIX.sub("", text)
    text = _NUMBER_SUFFIX.sub("", " ".join(text.split()))
    core = " ".join(text.split()).strip(" -:,.")
    return (core or " ".join(name.split())), [n for n in notes if n]


def describe_note(note: str) -> str:
    """A removed header part as information: `currency TL`, `incl. VAT`, `time zone UTC`,
    else `note: <text>`."""
    bare = note.strip().strip(".").strip()
    if bare.lower() in _CURRENCIES:
        return f"currency {bare.upper() if bare.isalpha() else bare}"
    if re.search(_TAX_WORDS, bare, re.I):
        if _EXCL.search(bare):
            return "excl. VAT"
        if _INCL.search(bare):
            return "incl. VAT"
        return "VAT only"
    if _ZONES.match(bare):
        return f"time zone {bare.upper()}"
    return f"note: {bare}"


def header_notes(name: str) -> list[str]:
    """What `split_header` removed from a header, described (`describe_note`)."""
    return [describe_note(n) for n in split_header(name)[1]]


def is_known_header(text: str) -> bool:
    folded = fold_header(text)
    core = fold_header(split_header(text)[0])
    return any(f in FOLDED or f in FOLDED_FALLBACKS for f in (folded, core))


def header_language(headers: list[str]) -> str | None:
    """'tr' or 'nl' when the headers are written in that language, else None."""
    votes = {"tr": 0, "nl": 0}
    for header in headers:
        languages = {language for _, language in FOLDED.get(fold_header(header), [])}
        if languages & {"en", "any"}:  # `Order Status` is also Dutch `Orderstatus`: no vote
            continue
        for language in languages & set(votes):
            votes[language] += 1
    best = max(votes, key=votes.__getitem__)
    return best if votes[best] else None


#: How `match_headers` chooses when several headers could fill one column (lower wins; ties
#: go to the header further left). Every column: a pinned `sources.yaml` mapping, then the
#: canonical name itself, then a synonym (tiers below), then a fallback spelling.
PRIORITIES: dict[str, str] = {
    "amount": "incl. VAT / gross / grand or invoiced total (`Bedrag incl. btw`, `Toplam Tutar -"
              " KDV Dahil`, `Gross Total`, `Genel Toplam`, `Faturalanacak Tutar`)"
              " > total or plain amount (`Total`, `Tutar (TL)`) > net / excl. VAT (`Net Amount`,"
              " `Bedrag excl. btw`); a VAT-only column (`Tutar (KDV)`) or one noted as a"
              " refund, discount, fee or shipping (`Tutar - İade`) never fills it",
    "order_date": "order / invoice date > plain date (`Date`, `Tarih`) > created > paid; an"
                  " updated / modified time never fills it",
    "opened_at": "opened / created > requested; never an updated time",
    "resolved_at": "resolved / solved > closed",
    "customer_id": "customer id / code / number; an e-mail or phone column is a key of its"
                   " own (`email`, `phone`), used when there is no id and to link sources; a"
                   " name never fills an id",
    "complaint_id": "ticket / case / complaint number > a bare `ID`",
}

_OTHER_MONEY = re.compile(r"(refund|iade|indirim|discount|korting|komisyon|commission|kargo|"
                          r"shipping|verzend|fee|kesinti|ceza|stopaj)")
_NAME_WORDS = re.compile(r"(name|naam|isim|unvan|adi$|ad$|fullname|voornaam|achternaam)")
_UPDATED_WORDS = re.compile(r"(updated|modified|lastupdate|guncelleme|gewijzigd|bijgewerkt)")
_IDS = {"customer_id", "order_id", "complaint_id", "interaction_id", "subscription_id",
        "action_id", "list_run_id", "row_id"}
_DATES = {"order_date", "opened_at", "resolved_at", "occurred_at", "signup_date", "cancelled_at",
          "started_at", "ended_at", "discount_ends_at", "action_at"}


def _tier(target: str, header: str, core: str, notes: list[str]) -> int | None:
    """1 (best) .. 4 within a column's synonyms (see `PRIORITIES`); None: never this column."""
    folded = fold_header(core)
    described = [describe_note(n) for n in notes]
    if target in _IDS and _NAME_WORDS.search(fold_header(header)) and "id" not in folded[-2:]:
        return None
    if target in _DATES and _UPDATED_WORDS.search(folded):
        return None
    if target == "amount":
        if "VAT only" in described or any(_OTHER_MONEY.search(fold_header(n)) for n in notes
                                           if not re.match(r"\s*(-|minus|w/o|excl)", n, re.I)):
            return None  # `Tutar - İade`, `Amount (discount)`: another amount, not the sale
        words = core.replace("_", " ")  # snake_case API names: gross_total, net_total
        if ("incl. VAT" in described or _INCL.search(words)
                or re.search(r"(grandtotal|geneltoplam|faturalan|invoiced|billed)", folded)):
            return 1
        if "excl. VAT" in described or _EXCL.search(words):
            return 3
        return 2
    if target == "order_date":
        if re.search(r"(order|invoice|purchase|siparis|fatura|bestel|factuur|issue)", folded):
            return 1
        if re.search(r"(created|olusturma|aangemaakt)", folded):
            return 3
        if re.search(r"(paid|odeme|betaal)", folded):
            return 4
        return 2
    if target == "opened_at":
        return 2 if "request" in folded else 1
    if target == "resolved_at":
        return 2 if re.search(r"(closed|kapanis|gesloten)", folded) else 1
    return 1


@dataclass(frozen=True)
class Candidate:
    header: str
    target: str
    rank: int  # 0 pinned/canonical, 1-4 synonym tiers, 5-8 fallback tiers


@dataclass
class HeaderMatch:
    """`mapping` header -> column; `notes` header -> units/notes taken off its name;
    `runners_up` column -> the other headers that could have filled it, best first."""

    mapping: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    runners_up: dict[str, list[str]] = field(default_factory=dict)


def candidates(headers: list[str], allowed: set[str],
               pinned: dict[str, str] | None = None) -> list[Candidate]:
    """Every (header, column) pairing the synonym tables allow, best first."""
    found: list[tuple[int, int, int, Candidate]] = []
    for index, header in enumerate(headers):
        if pinned and header in pinned and pinned[header] in allowed:
            found.append((0, index, 0, Candidate(header, pinned[header], 0)))
            continue
        core, notes = split_header(header)
        seen: set[str] = set()
        for form in dict.fromkeys((fold_header(header), fold_header(core))):
            for order, (target, language) in enumerate(FOLDED.get(form, [])):
                if target not in allowed or target in seen:
                    continue
                tier = 0 if language == "any" and form == fold_header(header) else _tier(
                    target, header, core, notes)
                if tier is not None:
                    seen.add(target)
                    found.append((tier, index, order, Candidate(header, target, tier)))
            for order, target in enumerate(FOLDED_FALLBACKS.get(form, [])):
                tier = _tier(target, header, core, notes) if target in allowed else None
                if tier is not None and target not in seen:
                    seen.add(target)
                    found.append((tier + 4, index, order, Candidate(header, target, tier + 4)))
    return [c for *_, c in sorted(found, key=lambda f: f[:3])]


def match_headers(headers: list[str], allowed: set[str],
                  pinned: dict[str, str] | None = None) -> HeaderMatch:
    """File header -> canonical column, for columns in `allowed`; each header and each column
    used once, the best-ranked pairing first (`PRIORITIES`), ties to the left-most header."""
    result = HeaderMatch()
    options = candidates(headers, allowed, pinned)
    for option in options:
        if option.header not in result.mapping and option.target not in result.mapping.values():
            result.mapping[option.header] = option.target
    # column order as before ranking existed: pins, then canonical names, then the rest
    ranks = {o.header: o.rank for o in options if result.mapping.get(o.header) == o.target}
    order = [h for h in (pinned or {}) if h in headers] + sorted(
        headers, key=lambda h: (ranks.get(h, 0) > 0, headers.index(h)))
    result.mapping = {h: result.mapping[h] for h in dict.fromkeys(order) if h in result.mapping}
    for option in options:
        if result.mapping.get(option.header) == option.target:
            continue
        if option.target in result.mapping.values() and option.header not in result.mapping:
            result.runners_up.setdefault(option.target, []).append(option.header)
    for header in result.mapping:
        notes = header_notes(header)
        core_notes = _TAX_PHRASE.search(header)
        if core_notes and not any("VAT" in n for n in notes):
            notes.append(describe_note(core_notes.group(0)))
        if notes:
            result.notes[header] = notes
    return result


def map_headers(headers: list[str], allowed: set[str],
                pinned: dict[str, str] | None = None) -> dict[str, str]:
    """`match_headers`' mapping alone."""
    return match_headers(headers, allowed, pinned).mapping


def closest_headers(headers: list[str], target: str, n: int = 3) -> list[str]:
    """The file's headers nearest to any spelling of `target` (difflib on folded cores)."""
    spellings = [fold_header(target)] + [
        fold_header(s) for spellings in SYNONYMS.get(target, {}).values() for s in spellings]
    spellings += [fold_header(s) for s in FALLBACKS.get(target, ())]
    scored = []
    for header in headers:
        core = fold_header(split_header(header)[0])
        score = max((difflib.SequenceMatcher(None, core, s).ratio() for s in spellings),
                    default=0.0)
        if score >= 0.5:
            scored.append((-score, headers.index(header), header))
    return [h for *_, h in sorted(scored)[:n]]
