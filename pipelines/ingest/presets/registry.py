"""Every system preset, and recognising one from a file's headers or `sources.yaml`."""

from __future__ import annotations

from pipelines.ingest.headers import fold_header, split_header
from pipelines.ingest.presets.activities import (
    pipedrive_activities,
    salesforce_events,
    salesforce_tasks,
)
from pipelines.ingest.presets.base import Preset
from pipelines.ingest.presets.billing import chargebee_subscriptions, stripe_subscriptions
from pipelines.ingest.presets.crms import hubspot_contacts, hubspot_engagements
from pipelines.ingest.presets.erps import exact_invoices, mikro_movements, netsis_ledger
from pipelines.ingest.presets.helpdesks import freshdesk_tickets, salesforce_cases, zendesk_tickets
from pipelines.ingest.presets.logo import logo_database_invoices, logo_invoices
from pipelines.ingest.presets.marketplaces import bol_orders, hepsiburada_orders, trendyol_orders
from pipelines.ingest.presets.newsletters import mailchimp_audience
from pipelines.ingest.presets.outreach import (
    hubspot_calls,
    hubspot_email_events,
    hubspot_meetings,
)
from pipelines.ingest.presets.payments import mollie_payments
from pipelines.ingest.presets.shops import (
    shopify_customers,
    shopify_orders,
    woocommerce_export_orders,
    woocommerce_orders,
)
from pipelines.ingest.staging import StagingError

# Order matters where signatures overlap: the first match wins (engagement exports also
# carry `Record ID`, so they come before contacts). A preset matches when the file has every
# `signature` header (`a|b`: either) and `min_optional` of its `optional` ones; what each
# preset needs and why:
# - shopify: the five columns its conversion reads + 1 other order-export column
#   (line items, money, fulfilment, tags...), so a view without `Lineitem quantity` matches.
# - zendesk: `Id` and `Created at` (a view's `Requested`) + 2 ticket columns (requester id,
#   name or e-mail, `Solved at`, `Updated at`, `Subject`, `Via`...): views list what they show.
# - freshdesk: `Ticket ID`, `Created time` + 1 of its ticket/contact fields.
# - salesforce-cases: `CaseNumber`, `CreatedDate` and the account or the contact id.
# - hubspot-contacts: `Record ID` + 3 contact properties (a deals export has 1 at most).
# - logo, netsis, woocommerce, hubspot-engagements: every column their conversion needs.
# - exact: number, date, customer key, amount and type, in API field names or Dutch (either
#   spelling per entry, so a Dutch export with the API's `Type` column matches too).
# - logo-db: `TRCODE` with an invoice number (`FICHENO`), date, key and amount; a file that
#   also has the `Fatura Tipi` caption is a `logo` report (listed first).
# - woocommerce-export: `Order Number, Order Status, Order Date`, an order total and the
#   billing e-mail or phone + 1 other column of the plugin's (`Item #`, `SKU`, `Item Name`,
#   `Quantity`, `Order Refund Amount`, `Payment Method Title`…).
# - stripe-subscriptions: `id`, the customer (id or e-mail), `Interval`, `Status` and a start
#   + 2 other columns of its export; chargebee-subscriptions: id, customer, plan, the
#   cancellation and next-billing times + 1 other documented field.
# - salesforce-tasks: `Id, Subject, ActivityDate, Status` and the account, contact or related
#   record + 2 other Task fields (subtype, call fields, owner, `IsClosed`...); salesforce-
#   events: `Id, Subject`, the start, the duration or end and the account, contact or
#   related record + 2 other Event fields (a task has no start, an event no Status);
#   pipedrive-activities: `id, subject, type, done, due_date` + 1 other activity field.
# - hubspot-calls: the record id, the activity date and the call status or outcome + 1 other
#   call property; hubspot-meetings: the record id, the start or activity date and the
#   meeting outcome or name + 1 other meeting property (both in labels or API names; a calls
#   export that also has `Activity type` fits hubspot-engagements too: the folder decides,
#   see `detect_preset`); hubspot-email-events: the email events API's five fields.
_SHOPIFY_OPTIONAL = frozenset({
    "lineitemquantity", "lineitemname", "lineitemprice", "lineitemsku", "paidat", "currency",
    "subtotal", "shipping", "taxes", "cancelledat", "refundedamount", "fulfillmentstatus",
    "fulfilledat", "discountcode", "discountamount", "acceptsmarketing", "shippingmethod",
    "billingname", "shippingname", "tags", "paymentmethod", "vendor", "outstandingbalance"})
_ZENDESK_OPTIONAL = frozenset({
    "requester", "requesterid", "requesterexternalid", "requesteremail", "requesterdomain",
    "solvedat", "updatedat", "updated", "subject", "assignee", "submitter", "via", "tickettype",
    "satisfactionscore", "assignedat", "initiallyassignedat", "reopens", "replies",
    "nextslabreach"})
_FRESHDESK_OPTIONAL = frozenset({
    "status", "subject", "priority", "source", "type", "agent", "group", "resolvedtime",
    "closedtime", "lastupdatetime", "lastupdatedtime", "duebytime", "surveyresults",
    "contactid", "fullname", "resolutionstatus", "firstresponsetimeinhrs"})
_WOO_EXPORT_OPTIONAL = frozenset({
    "item", "sku", "itemname", "name", "quantity", "quantityrefund", "itemcost",
    "orderlinetotal", "orderlinetotalrefunded", "orderlinetotalrefund", "productvariation",
    "ordersubtotalamount", "ordershippingamount", "orderrefundamount", "ordertotaltaxamount",
    "paymentmethodtitle", "totalitems", "totalproducts"})
_STRIPE_SUBSCRIPTION_OPTIONAL = frozenset({
    "customeremail", "customername", "plan", "product", "productid", "quantity", "currency",
    "amount", "canceledat", "endedat", "currentperiodstart", "currentperiodend", "trialstart",
    "trialend", "cancelatperiodend", "cancellationreason"})
_CHARGEBEE_SUBSCRIPTION_OPTIONAL = frozenset({
    "status", "createdat", "activatedat", "cancelreason", "cancelreasoncode"})
_SALESFORCE_TASK_OPTIONAL = frozenset({
    "tasksubtype", "type", "calltype", "calldisposition", "calldurationinseconds",
    "callobject", "ownerid", "isclosed", "completeddatetime", "priority", "ishighpriority",
    "createddate", "lastmodifieddate", "description"})
_SALESFORCE_EVENT_OPTIONAL = frozenset({
    "eventsubtype", "type", "isalldayevent", "ownerid", "location", "ischild",
    "isgroupevent", "activitydate", "createddate", "lastmodifieddate", "description",
    "isprivate", "showas"})
_PIPEDRIVE_ACTIVITY_OPTIONAL = frozenset({
    "markedasdonetime", "orgid", "personid", "dealid", "leadid", "ownerid", "userid",
    "addtime", "updatetime", "duetime", "duration", "note"})
_HUBSPOT_CALL_OPTIONAL = frozenset({
    "calltitle", "hscalltitle", "calldirection", "hscalldirection", "callduration",
    "hscallduration", "activityassignedto", "hubspotownerid", "associatedcontactids",
    "associatedcompanyids", "callnotes", "hscallbody", "hslastmodifieddate"})
_HUBSPOT_MEETING_OPTIONAL = frozenset({
    "meetingendtime", "hsmeetingendtime", "meetinglocation", "hsmeetinglocation",
    "activityassignedto", "hubspotownerid", "associatedcontactids", "associatedcompanyids",
    "meetingdescription", "hsmeetingbody", "hslastmodifieddate", "meetingsource"})
_HUBSPOT_CONTACT_OPTIONAL = frozenset({
    "email", "createdate", "firstname", "lastname", "phonenumber", "jobtitle", "lifecyclestage",
    "leadstatus", "contactowner"})

PRESETS: tuple[Preset, ...] = (
    Preset("shopify", "purchases", frozenset({"name", "email", "financialstatus", "total",
                                              "createdat"}),
           "en", shopify_orders, _SHOPIFY_OPTIONAL, 1),
    Preset("zendesk", "complaints", frozenset({"id", "createdat|requested"}),
           None, zendesk_tickets, _ZENDESK_OPTIONAL, 2),
    Preset("freshdesk", "complaints", frozenset({"ticketid", "createdtime"}),
           None, freshdesk_tickets, _FRESHDESK_OPTIONAL, 1),
    Preset("logo", "purchases", frozenset({"tarih", "carikod", "fisno", "faturatipi"}),
           "tr", logo_invoices),
    Preset("netsis", "purchases", frozenset({"carikod", "tarih", "borc", "alacak", "belgeno"}),
           "tr", netsis_ledger),
    Preset("woocommerce", "purchases", frozenset({"orderid", "orderdate", "ordertotal",
                                                  "customerid", "status"}),
           None, woocommerce_orders),
    Preset("salesforce-cases", "complaints",
           frozenset({"casenumber", "accountid|contactid", "createddate"}), None,
           salesforce_cases),
    Preset("hubspot-engagements", "interactions",
           frozenset({"recordid", "activitytype", "activitydate"}), None, hubspot_engagements),
    Preset("hubspot-contacts", "customers", frozenset({"recordid"}), None, hubspot_contacts,
           _HUBSPOT_CONTACT_OPTIONAL, 3),
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
    Preset("exact", "purchases", frozenset({
        "invoicenumber|factuurnummer|factuurnr", "invoicedate|factuurdatum",
        "orderedby|debiteurcode|klantcode|debiteurnummer|codedebiteur|relatiecode",
        "amountdc|bedraginclbtw|totaalinclbtw|totaalbedrag|factuurbedrag|totaal|bedrag",
        "type|soort|factuurtype|typefactuur|soortfactuur"}), None, exact_invoices),
    Preset("logo-db", "purchases", frozenset({
        "trcode", "ficheno|fisno|faturano", "date|tarih",
        "code|clientref|carikod|carikodu|clcardcode",
        "nettotal|nettoplam|toplamtutar|nettutar|tutar"}),
           "tr", logo_database_invoices),
    Preset("woocommerce-export", "purchases", frozenset({
        "ordernumber", "orderstatus", "orderdate", "ordertotalamount|ordertotalamountrefund",
        "emailbilling|phonebilling"}), "en", woocommerce_export_orders, _WOO_EXPORT_OPTIONAL, 1),
    # billing exports of subscriptions: Stripe's `Interval` and start, Chargebee's API fields
    Preset("stripe-subscriptions", "subscriptions", frozenset({
        "id", "customerid|customeremail", "interval", "status", "start|startdate|created"}),
           "en", stripe_subscriptions, _STRIPE_SUBSCRIPTION_OPTIONAL, 2),
    Preset("chargebee-subscriptions", "subscriptions", frozenset({
        "id", "customerid", "cancelledat", "planid|itempriceid", "nextbillingat"}),
           None, chargebee_subscriptions, _CHARGEBEE_SUBSCRIPTION_OPTIONAL, 1),
    # CRM activity logs as the team's retention actions, in their API field names
    Preset("salesforce-tasks", "actions", frozenset({
        "id", "subject", "activitydate", "status", "accountid|whoid|whatid"}),
           None, salesforce_tasks, _SALESFORCE_TASK_OPTIONAL, 2),
    Preset("salesforce-events", "actions", frozenset({
        "id", "subject", "startdatetime|activitydatetime", "durationinminutes|enddatetime",
        "accountid|whoid|whatid"}), None, salesforce_events, _SALESFORCE_EVENT_OPTIONAL, 2),
    Preset("pipedrive-activities", "actions", frozenset({
        "id", "subject", "type", "done", "duedate"}),
           None, pipedrive_activities, _PIPEDRIVE_ACTIVITY_OPTIONAL, 1),
    # HubSpot's own outreach records: logged calls and meetings, marketing e-mail events
    Preset("hubspot-calls", "actions", frozenset({
        "recordid|hsobjectid", "activitydate|hstimestamp",
        "callstatus|calloutcome|hscallstatus|hscalldisposition"}),
           None, hubspot_calls, _HUBSPOT_CALL_OPTIONAL, 1),
    Preset("hubspot-meetings", "actions", frozenset({
        "recordid|hsobjectid", "meetingstarttime|hsmeetingstarttime|activitydate|hstimestamp",
        "meetingoutcome|hsmeetingoutcome|meetingname|hsmeetingtitle"}),
           None, hubspot_meetings, _HUBSPOT_MEETING_OPTIONAL, 1),
    Preset("hubspot-email-events", "actions", frozenset({
        "id", "created", "type", "recipient", "emailcampaignid"}),
           None, hubspot_email_events),
)
PRESET_NAMES = tuple(p.name for p in PRESETS)


def preset_system(name: str | None) -> str:
    """The system a preset reads (`woocommerce-export` -> woocommerce, `hubspot-contacts` ->
    hubspot), whose record ids are one sequence; "" for a file read without a preset."""
    return name.split("-")[0] if name else ""


def folded_headers(headers: list[str]) -> set[str]:
    """Each header folded whole and without its units/notes (`Total (EUR)` -> total)."""
    return {fold_header(h) for h in headers} | {fold_header(split_header(h)[0]) for h in headers}


def matching_presets(headers: list[str]) -> list[Preset]:
    """Every preset whose signature the headers carry, in priority (`PRESETS`) order."""
    folded = folded_headers(headers)
    return [p for p in PRESETS if p.matches(folded)]


def detect_preset(headers: list[str], name: str | None = None,
                  kind: str | None = None) -> Preset | None:
    """The preset named in sources.yaml, else the first (in `PRESETS` order) whose
    signature the headers carry: all of `signature`, `min_optional` of `optional`.

    A file in a kind folder (or given a `kind` in sources.yaml) takes the first matching
    preset of that kind: one export can fit presets of two kinds (a HubSpot calls export
    that carries `Activity type` is also an engagements export), and where the user put it
    says which they mean. Only when no preset of that kind fits is another kind's returned
    (the caller says the file sits in the wrong folder). A file straight under raw/ whose
    headers fit presets of more than one kind cannot be told apart: StagingError, naming
    the folders that would decide it."""
    if name is not None:
        return next((p for p in PRESETS if p.name == name), None)
    matches = matching_presets(headers)
    if kind is not None:
        return next((p for p in matches if p.kind == kind), next(iter(matches), None))
    kinds = list(dict.fromkeys(p.kind for p in matches))
    if len(kinds) > 1:
        fits = " or ".join(f"a {next(p.name for p in matches if p.kind == k)} export of {k}"
                           for k in kinds)
        raise StagingError(f"looks like {fits}; put it under "
                           + " or ".join(f"raw/{k}/" for k in kinds)
                           + " (or set `kind` in sources.yaml) so it is read as the one meant")
    return next(iter(matches), None)


_PRESET_HEADERS = frozenset(o for p in PRESETS for e in p.signature for o in e.split("|"))


def is_preset_header(text: str) -> bool:
    """True for headers that belong to a preset's signature (for header-row detection)."""
    return fold_header(text) in _PRESET_HEADERS
