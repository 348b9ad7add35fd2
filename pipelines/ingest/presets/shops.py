"""Web-shop order exports: Shopify and WooCommerce (REST/CSV and the export plugin).

- Shopify orders are keyed by `Email` (and `Phone` where exported): the export has no
  customer number. `Financial Status` and `Refunded Amount` describe the order at export
  time. A fully refunded order is staged as `returned` (amount gross, like every returned
  order); a partial refund is netted into the amount. `Cancelled at` orders are staged as
  `cancelled`, which no purchase feature counts. Customer-level `Total Spent`/`Total Orders`
  are never read.
- WooCommerce: `status` is the order's state at export time; `refunded` orders are staged as
  `returned` and their refund records are not subtracted a second time; partial refund
  records (negative totals with a parent id) are netted into their order. Its
  `customer_id` is WooCommerce's own user number (0 for a guest, who is known by the billing
  e-mail alone); `billing_email` / `billing_phone` link it to other systems.
- WooCommerce "Advanced Order Export For WooCommerce" plugin (algolplus; its default labels:
  `Order Number, Order Status, Order Date, … Email (Billing), Phone (Billing), … Item #, SKU,
  Item Name` (older `Name`), `Quantity (- Refund), Item Cost, …, Order Refund Amount, Order
  Total Amount, Order Total Tax Amount`; optional `Quantity`, `Order Line Total…`, `Order Total
  Amount (- Refund)`, `Customer User ID`). One row per line item: the rows of one `Order
  Number` become one order, the others are counted as merged; order-level cells are read
  from the order's first row that has them (in case later rows of an order leave them empty).
  Keys `Email (Billing)` and `Phone (Billing)`; `Customer User ID`, where exported, is
  WordPress's user number (id space `woocommerce`, as in the REST preset; 0 = guest).
  `Order Status` is the status label in the shop's language (`Completed`, `Completo`,
  `Voltooid`, `Tamamlandı`, `Cancelado`, `Terugbetaald`, …): completed/processing →
  completed, refunded → returned, cancelled and the unpaid states (pending payment, failed,
  on hold, draft) → cancelled; unknown labels are left for staging. `Order Refund Amount`,
  `Order Total Amount (- Refund)`, `Quantity (- Refund)` and the status are export-time
  state: like Shopify and the REST preset, a fully refunded order is staged `returned` at its
  gross total, a partial refund is netted into the amount, once (a view with only `Order
  Total Amount (- Refund)` adds `Order Refund Amount` back for the gross; without that column
  the net is all there is). `Quantity` is summed over the lines (else `Quantity (- Refund)`).
  Labels can be renamed or translated in the plugin: only the English defaults are
  recognised. `Customer Total Orders/Spent` are never read. The labels are English whatever
  the shop's language, so the file is read with the `en` locale (a decimal-comma column is
  still recognised from its values; the date and number formats are plugin settings, not
  documented defaults): set `locale` for day-first dates and `country` for phone numbers
  written without their country code in sources.yaml.
- Shopify customers export (the customer master): `Customer ID` (Shopify's own number,
  Excel-protected with a leading apostrophe, `'595909214328`, which staging strips), name from
  `First Name` + `Last Name`, `Email` and `Phone` as keys that link it to orders, region from
  `Default Address City` (older files: `City`). The export has no sign-up date. `Total Spent`,
  `Total Orders`, `Tags`, `Note` and the consent columns (`Accepts Email Marketing`,
  `Accepts SMS Marketing`, older `Accepts Marketing`) describe the customer at export time and
  are never read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique, parse_numbers
from pipelines.ingest.headers import fold_header
from pipelines.ingest.presets.base import PresetResult, find_column, require_column, whole_column
from pipelines.ingest.staging import PRESET_REASON, PURCHASE_STATUS_VOCABULARY, SOURCE_LINE


def shopify_orders(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """One row per order from one row per line item; money from the order's first row."""
    name = require_column(frame, "Name", preset="shopify")
    email_col = require_column(frame, "Email", preset="shopify")
    created_col = require_column(frame, "Created at", preset="shopify")
    total_col = require_column(frame, "Total", preset="shopify")
    financial_col = require_column(frame, "Financial Status", preset="shopify")
    first = ~cell_text(frame[name]).duplicated() | cell_text(frame[name]).isna()
    quantity_col = find_column(frame, "Lineitem quantity")
    quantity = parse_numbers(frame[quantity_col], locale)[0] if quantity_col else None
    orders = frame.loc[first].copy()
    total = parse_numbers(orders[total_col], locale)[0]
    refunded_col = find_column(frame, "Refunded Amount")
    refunded = (parse_numbers(orders[refunded_col], locale)[0].fillna(0.0) if refunded_col
                else pd.Series(0.0, index=orders.index))
    financial = cell_text(orders[financial_col]).fillna("").str.lower()
    cancelled_col = find_column(frame, "Cancelled at")
    cancelled = (cell_text(orders[cancelled_col]).notna() if cancelled_col
                 else pd.Series(False, index=orders.index))
    fully_refunded = (financial == "refunded") | ((refunded >= total) & (refunded > 0))
    status = np.where(cancelled, "cancelled", np.where(fully_refunded, "returned", "completed"))
    amount = total.where(fully_refunded | cancelled, total - refunded)
    keys = cell_text(frame[name])
    out = pd.DataFrame({
        "email": orders[email_col],  # the shop's key; normalised with every other key
        "order_id": cell_text(orders[name]),
        "order_date": orders[created_col],
        "amount": amount.where(total.notna(), orders[total_col]),
        "status": status,
    }, index=orders.index)
    if quantity is not None:
        out["quantity"] = quantity.groupby(keys.fillna("")).transform("sum")[first]
    source = find_column(frame, "Source")
    if source:
        out["channel"] = orders[source]
    out[SOURCE_LINE] = [line for line, keep in zip(lines, first, strict=True) if keep]
    gateway = find_column(frame, "Payment Method", "Gateway")
    tags = find_column(frame, "Tags")
    test = pd.Series(False, index=orders.index)
    if gateway:
        test |= cell_text(orders[gateway]).fillna("").str.lower().str.contains("bogus")
    if tags:
        test |= cell_text(orders[tags]).fillna("").str.lower().str.contains(r"\btest\b")
    # numpy's stubs take no None among np.where's choices; at runtime it is an object cell
    out[PRESET_REASON] = np.where(test, "test order", None)  # type: ignore[call-overload]
    filled = [c for c in (find_column(frame, "Phone"), find_column(frame, "Billing Phone"))
              if c and cell_text(orders[c]).notna().any()]  # `Phone` is often left empty
    phone = filled[0] if filled else None
    if phone:
        out["phone"] = orders[phone]
    mapping = {name: "order_id", email_col: "email", created_col: "order_date",
               total_col: "amount"} | ({phone: "phone"} if phone else {})
    return PresetResult(out, int((~first).sum()), mapping)


_WOO_STATUS = {"completed": "completed", "processing": "completed", "refunded": "returned",
               "cancelled": "cancelled", "failed": "cancelled", "pending": "cancelled",
               "onhold": "cancelled", "checkoutdraft": "cancelled", "trash": "cancelled"}


def woocommerce_orders(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Orders keyed by customer id, guests (id 0) by e-mail; refund records (negative totals
    pointing at a parent order) are netted into that order, unless it is already refunded."""
    total_col = require_column(frame, "order_total", preset="woocommerce")
    parent_col = find_column(frame, "parent_id", "parent_order_id")
    customer_col = require_column(frame, "customer_id", preset="woocommerce")
    status_col = require_column(frame, "status", preset="woocommerce")
    order_col = require_column(frame, "order_id", preset="woocommerce")
    date_col = require_column(frame, "order_date", preset="woocommerce")
    total = parse_numbers(frame[total_col], locale)[0]
    parent = cell_text(frame[parent_col]) if parent_col else pd.Series(None, index=frame.index)
    refund = (total < 0) & parent.notna() & (parent != "0")
    orders = frame.loc[~refund]
    customer = cell_text(orders[customer_col])
    email_col = find_column(frame, "customer_email", "billing_email")
    guest = customer.isna() | (customer == "0")
    status_text = cell_text(orders[status_col]).fillna("")
    status = map_unique(status_text,
                        lambda v: _WOO_STATUS.get(fold_header((v or "").removeprefix("wc-")), v))
    order_id = cell_text(orders[order_col])
    amount = total[~refund].copy()
    net = total[refund].groupby(parent[refund]).sum()
    open_orders = order_id.isin(net.index) & (status != "returned")
    amount[open_orders] += order_id[open_orders].map(net).to_numpy()
    out = pd.DataFrame({
        "customer_id": customer.where(~guest, None),  # a guest is known by the e-mail alone
        "order_id": order_id, "order_date": orders[date_col],
        "amount": amount.where(amount.notna(), orders[total_col]), "status": status,
    }, index=orders.index)
    if email_col:
        out["email"] = orders[email_col]
    phone_col = find_column(frame, "billing_phone")
    if phone_col:
        out["phone"] = orders[phone_col]
    out[SOURCE_LINE] = [line for line, keep in zip(lines, ~refund, strict=True) if keep]
    orphans = refund & ~parent.isin(order_id)
    if orphans.any():  # a refund whose order is not in this file cannot be netted
        rows = frame.loc[orphans]
        extra = pd.DataFrame({
            "customer_id": cell_text(rows[customer_col]),
            "order_id": cell_text(rows[order_col]),
            "order_date": rows[date_col], "amount": rows[total_col],
            PRESET_REASON: "refund record without its order in this file"}, index=rows.index)
        extra[SOURCE_LINE] = [line for line, o in zip(lines, orphans, strict=True) if o]
        out = pd.concat([out, extra])
    mapping = {order_col: "order_id", customer_col: "customer_id", total_col: "amount",
               date_col: "order_date"} | ({email_col: "email"} if email_col else {}) | (
        {phone_col: "phone"} if phone_col else {})
    return PresetResult(out, int((refund & ~orphans).sum()), mapping, id_space="woocommerce")


# `Order Status` holds WooCommerce's status *label* in the shop's language. The English
# labels are WooCommerce's own; the others are the translations seen in exports (Spanish,
# Portuguese, Dutch, Turkish), not a complete list: with staging's en/tr/nl order words they
# decide the status; any other label is left for staging, which quarantines it unless
# `statuses:` in sources.yaml names it. Unpaid states are never purchases.
_WOO_LABELS = {
    "completed": "completed", "completo": "completed", "completado": "completed",
    "concluido": "completed", "voltooid": "completed", "afgerond": "completed",
    "tamamlandi": "completed", "processing": "completed", "procesando": "completed",
    "processando": "completed", "inbehandeling": "completed", "hazirlaniyor": "completed",
    "refunded": "returned", "reembolsado": "returned", "terugbetaald": "returned",
    "iadeedildi": "returned",
    "cancelled": "cancelled", "canceled": "cancelled", "cancelado": "cancelled",
    "geannuleerd": "cancelled", "iptal": "cancelled", "iptaledildi": "cancelled",
    "failed": "cancelled", "fallido": "cancelled", "malsucedido": "cancelled",
    "mislukt": "cancelled", "basarisiz": "cancelled",
    "pendingpayment": "cancelled", "pending": "cancelled", "pendientedepago": "cancelled",
    "pagamentopendente": "cancelled", "wachtopbetaling": "cancelled",
    "inafwachtingvanbetaling": "cancelled", "odemebekleniyor": "cancelled",
    "onhold": "cancelled", "enespera": "cancelled", "aguardando": "cancelled",
    "indewacht": "cancelled", "beklemede": "cancelled", "draft": "cancelled",
    "checkoutdraft": "cancelled", "trash": "cancelled",
}


def woocommerce_export_orders(frame: pd.DataFrame, lines: list[int],
                              locale: str) -> PresetResult:
    """"Advanced Order Export For WooCommerce" files: one row per line item to one row per
    order (order values from the order's first row that has them); refunds as in Shopify."""
    number_col = require_column(frame, "Order Number", preset="woocommerce-export")
    status_col = require_column(frame, "Order Status", preset="woocommerce-export")
    date_col = require_column(frame, "Order Date", preset="woocommerce-export")
    total_col = whole_column(frame, "Order Total Amount")
    net_col = whole_column(frame, "Order Total Amount (- Refund)")
    refund_col = whole_column(frame, "Order Refund Amount")
    if total_col is None and net_col is None:
        require_column(frame, "Order Total Amount", preset="woocommerce-export")
    keys = cell_text(frame[number_col])
    # a row without an order number is its own group (staging quarantines it), never merged
    group = keys.fillna(pd.Series(frame.index.astype(str), index=frame.index).radd("\x1f"))
    first = ~group.duplicated()

    def order_value(column: str) -> pd.Series:
        """The order's first non-empty cell of `column`, on the order's first row."""
        return cell_text(frame[column]).groupby(group, sort=False).transform("first")[first]

    orders = frame.loc[first]
    sources = {"total": total_col, "net": net_col, "refund": refund_col}
    money = {k: parse_numbers(order_value(c), locale)[0] for k, c in sources.items() if c}
    if "refund" in money:
        refunded = money["refund"].fillna(0.0)
    elif "total" in money and "net" in money:
        refunded = (money["total"] - money["net"]).fillna(0.0)
    else:
        refunded = pd.Series(0.0, index=orders.index)
    total = money["total"] if "total" in money else money["net"] + refunded
    total_text = order_value(total_col) if total_col else total.astype(object)
    label = order_value(status_col).fillna("")
    # the staging words too, so a label both know (`Geleverd`) is netted like `Completed`
    words = PURCHASE_STATUS_VOCABULARY | _WOO_LABELS
    status = map_unique(label, lambda v: words.get(fold_header(v.removeprefix("wc-")), v))
    fully = (status == "returned") | ((refunded >= total - 0.005) & (refunded > 0))
    status = status.where(~(fully & status.isin(["completed"])), "returned")
    netted = (status == "completed") & (refunded > 0)
    amount = total.where(~netted, (total - refunded).round(2))
    out = pd.DataFrame({
        "order_id": keys[first], "order_date": order_value(date_col),
        "amount": amount.where(total.notna(), total_text), "status": status,
    }, index=orders.index)
    mapping = {number_col: "order_id", status_col: "status", date_col: "order_date"} | {
        c: label for c, label in ((total_col, "amount"), (net_col, "amount (net of refunds)"),
                                  (refund_col, "amount (refund netted once)")) if c}
    for target, names in (("email", ("Email (Billing)", "Billing Email")),
                          ("phone", ("Phone (Billing)", "Billing Phone"))):
        column = whole_column(frame, *names)
        if column:
            out[target] = order_value(column)
            mapping[column] = target
    user_col = whole_column(frame, "Customer User ID")
    if user_col:  # WordPress's user number; 0 is a guest, known by the e-mail alone
        user = order_value(user_col)
        out["customer_id"] = user.where(user != "0", None)
        mapping[user_col] = "customer_id"
    quantity_col = whole_column(frame, "Quantity", "Quantity (- Refund)")
    if quantity_col:
        quantity = parse_numbers(frame[quantity_col], locale)[0]
        out["quantity"] = quantity.groupby(group, sort=False).transform("sum")[first]
        mapping[quantity_col] = "quantity (summed over line items)"
    out[SOURCE_LINE] = [line for line, keep in zip(lines, first, strict=True) if keep]
    return PresetResult(out, int((~first).sum()), mapping, id_space="woocommerce")


def shopify_customers(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Customers as the master; export-time totals, tags and consent are not read."""
    id_col = require_column(frame, "Customer ID", preset="shopify-customers")
    email_col = find_column(frame, "Email")
    city_col = find_column(frame, "Default Address City", "City")
    out = pd.DataFrame({"customer_id": cell_text(frame[id_col])}, index=frame.index)
    mapping = {id_col: "customer_id"}
    first, last = find_column(frame, "First Name"), find_column(frame, "Last Name")
    if first or last:
        parts = [cell_text(frame[c]).fillna("") for c in (first, last) if c]
        name = parts[0].str.cat(parts[1:], sep=" ").str.strip()
        out["name"] = name.where(name != "", None)
        mapping.update({c: "name" for c in (first, last) if c})
    if email_col:
        out["email"] = frame[email_col]
        mapping[email_col] = "email"
    phone_col = find_column(frame, "Phone", "Default Address Phone")
    if phone_col:
        out["phone"] = frame[phone_col]
        mapping[phone_col] = "phone"
    if city_col:
        out["region"] = frame[city_col]
        mapping[city_col] = "region"
    out[SOURCE_LINE] = lines
    return PresetResult(out, 0, mapping, id_space="shopify")
