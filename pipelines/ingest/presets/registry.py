"""Every system preset, and recognising one from a file's headers or `sources.yaml`."""

from __future__ import annotations

from pipelines.ingest.headers import fold_header
from pipelines.ingest.presets.base import Preset
from pipelines.ingest.presets.crms import hubspot_contacts, hubspot_engagements
from pipelines.ingest.presets.erps import (
    exact_invoices,
    logo_invoices,
    mikro_movements,
    netsis_ledger,
)
from pipelines.ingest.presets.helpdesks import freshdesk_tickets, salesforce_cases, zendesk_tickets
from pipelines.ingest.presets.marketplaces import bol_orders, hepsiburada_orders, trendyol_orders
from pipelines.ingest.presets.newsletters import mailchimp_audience
from pipelines.ingest.presets.payments import mollie_payments
from pipelines.ingest.presets.shops import (
    shopify_customers,
    shopify_orders,
    woocommerce_orders,
)

# Order matters where signatures overlap: the first match wins (engagement exports also
# carry `Record ID`, so they come before contacts).
PRESETS: tuple[Preset, ...] = (
    Preset("shopify", "purchases", frozenset({"name", "email", "financialstatus",
                                              "lineitemquantity", "total", "createdat"}),
           "en", shopify_orders),
    Preset("zendesk", "complaints", frozenset({"id", "requesterid", "createdat", "solvedat"}),
           None, zendesk_tickets),
    Preset("freshdesk", "complaints", frozenset({"ticketid", "createdtime", "status"}),
           None, freshdesk_tickets),
    Preset("logo", "purchases", frozenset({"tarih", "carikod", "fisno", "faturatipi"}),
           "tr", logo_invoices),
    Preset("netsis", "purchases", frozenset({"carikod", "tarih", "borc", "alacak", "belgeno"}),
           "tr", netsis_ledger),
    Preset("woocommerce", "purchases", frozenset({"orderid", "orderdate", "ordertotal",
                                                  "customerid", "status"}),
           None, woocommerce_orders),
    Preset("salesforce-cases", "complaints",
           frozenset({"casenumber", "accountid", "createddate"}), None, salesforce_cases),
    Preset("hubspot-engagements", "interactions",
           frozenset({"recordid", "activitytype", "activitydate"}), None, hubspot_engagements),
    Preset("hubspot-contacts", "customers",
           frozenset({"recordid", "email", "createdate", "firstname"}), None, hubspot_contacts),
    # Added after every earlier preset: no earlier file carries these headers.
    Preset("trendyol", "purchases", frozenset({"siparisnumarasi", "paketno", "siparistarihi",
                                               "siparisstatusu"}), "tr", trendyol_orders),
    Preset("hepsiburada", "purchases", frozenset({"siparisnumarasi", "paketnumarasi",
                                                  "kalemnumarasi", "siparistarihi"}),
           "tr", hepsiburada_orders),
    Preset("bol", "purchases", frozenset({"bestelnummer", "besteldatum", "prijs"}), "nl",
           bol_orders),
    Preset("mollie", "purchases", frozenset({"id", "date", "amount", "currency", "status",
                                             "amountrefunded"}), None, mollie_payments),
    Preset("shopify-customers", "customers", frozenset({"customerid", "firstname", "lastname",
                                                        "email", "totalspent"}),
           None, shopify_customers),
    Preset("mailchimp", "interactions", frozenset({"emailaddress", "memberrating", "optintime",
                                                   "confirmtime"}), None, mailchimp_audience),
    Preset("mikro", "purchases", frozenset({"chaevraktip", "chanormaliade", "chakod",
                                            "chatarihi", "chameblag"}), "tr", mikro_movements),
    Preset("exact", "purchases", frozenset({"invoicenumber", "invoicedate", "orderedby",
                                            "amountdc", "type"}), None, exact_invoices),
)
PRESET_NAMES = tuple(p.name for p in PRESETS)


def detect_preset(headers: list[str], name: str | None = None) -> Preset | None:
    """The preset named in sources.yaml, else the first whose signature the headers carry."""
    if name is not None:
        return next((p for p in PRESETS if p.name == name), None)
    folded = {fold_header(h) for h in headers}
    return next((p for p in PRESETS if p.signature <= folded), None)


def is_preset_header(text: str) -> bool:
    """True for headers that belong to a preset's signature (for header-row detection)."""
    folded = fold_header(text)
    return any(folded in p.signature for p in PRESETS)
