"""Payment-provider exports as purchases: Mollie payments.

- Mollie payments (`ID, Date, Amount, Currency, Status, Amount refunded, Consumer name,
  Consumer bank account, …`): one purchase per payment, keyed by its `ID` (`tr_…`), dated
  `Date`, amount `Amount`. Mollie exports no e-mail and no customer id, so the customer is the
  payer's bank account (`Consumer bank account`, an IBAN, spaces dropped and upper-cased); a
  payment without one (cards, wallets) is set aside as "no customer key". `Consumer name` is
  never matched on, nor is `Description`.
- `Status` and `Amount refunded` describe the payment at export time and only set the status
  and the amount: `paid` → completed, with a partial refund netted into the amount; refunded
  in full (`Amount refunded` ≥ `Amount`, or status `refunded` without an amount) or charged
  back → returned (gross amount, like every returned order); `failed`, `expired`, `canceled`
  → cancelled. A payment still `open`, `pending` or `authorized` is not a purchase yet and is
  set aside with that reason (a later export carries its outcome). `Settlement amount` (in
  the settlement currency) and `Payment method` (not a sales channel) are not read.
"""

from __future__ import annotations

import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique, parse_numbers
from pipelines.ingest.headers import fold_header
from pipelines.ingest.presets.base import PresetResult, find_column, require_column
from pipelines.ingest.staging import PRESET_REASON, SOURCE_LINE

# folded Mollie payment status -> canonical status; None: not a purchase yet
_MOLLIE_STATUS: dict[str, str | None] = {
    "paid": "completed", "refunded": "returned", "chargedback": "returned",
    "failed": "cancelled", "expired": "cancelled", "canceled": "cancelled",
    "cancelled": "cancelled", "open": None, "pending": None, "authorized": None,
}


def mollie_payments(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Payments as purchases keyed by the payer's IBAN; refunds set status or net amount."""
    id_col = require_column(frame, "ID", preset="mollie")
    date_col = require_column(frame, "Date", preset="mollie")
    amount_col = require_column(frame, "Amount", preset="mollie")
    status_col = require_column(frame, "Status", preset="mollie")
    iban_col = find_column(frame, "Consumer bank account")
    refunded_col = find_column(frame, "Amount refunded")
    amount = parse_numbers(frame[amount_col], locale)[0]
    refunded = (parse_numbers(frame[refunded_col], locale)[0] if refunded_col
                else pd.Series(float("nan"), index=frame.index))
    said = cell_text(frame[status_col])
    folded = map_unique(said.fillna(""), fold_header)
    known = folded.isin(list(_MOLLIE_STATUS))
    status = folded.map(lambda f: _MOLLIE_STATUS.get(f)).where(known, said).astype(object)
    paid = (status == "completed") | (folded == "refunded")
    full_refund = (refunded > 0) & (refunded >= amount - 0.005)
    status[paid & full_refund] = "returned"
    partial = paid & (refunded > 0) & ~full_refund
    status[partial] = "completed"  # a partial refund: the rest was bought
    net = amount.astype(object).where(amount.notna(), cell_text(frame[amount_col]))
    net[partial] = (amount[partial] - refunded[partial]).round(2)
    iban = cell_text(frame[iban_col]).str.replace(r"\s+", "", regex=True).str.upper() \
        if iban_col else pd.Series(None, index=frame.index, dtype=object)
    out = pd.DataFrame({
        "customer_id": iban.where(iban != "", None),
        "order_id": cell_text(frame[id_col]),
        "order_date": frame[date_col],
        "amount": net,
        "status": status.where(status.notna(), "completed"),
    }, index=frame.index)
    out[SOURCE_LINE] = lines
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[known & status.isna()] = "payment not completed yet (open, pending or authorized)"
    reason[out["customer_id"].isna()] = ("no customer key (no Consumer bank account; Mollie "
                                         "exports no e-mail and a name is never matched)")
    out[PRESET_REASON] = reason
    mapping = {id_col: "order_id", date_col: "order_date", amount_col: "amount",
               status_col: "status (export-time: only sets the status)"}
    if iban_col:
        mapping[iban_col] = "customer_id"
    if refunded_col:
        mapping[refunded_col] = "amount (export-time refunds netted)"
    return PresetResult(out, 0, mapping, id_space="iban")  # an account number, not a code
