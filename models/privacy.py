"""Personal data in the outputs, in no particular store: which personal columns a risk list
carries, keyed pseudonyms of customer ids, and contact keys masked for reports.

The personal columns a risk list can carry are the customer's name, e-mail, phone and the
account owner (an employee). `CHURN_PERSONAL_COLUMNS` names the ones it does (comma-separated,
or `none`); the default, name and owner, is what the retention team needs to know whom to call
and who calls: contact details stay in the CRM the team already uses. Columns not allowed are
left empty in every output; e-mail and phone columns exist only when allowed.

A pseudonym is `p-` and 16 hex digits of `HMAC-SHA256(key, id)`: the same customer gets the
same pseudonym under one key (so operators can follow one across runs), and nobody without the
key can tell who it is or test a guess. The key is the caller's (`pipelines.store.settings`
reads it from the environment). Pure: no IO, no clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

import pandas as pd

#: setting value -> the risk list column it allows
PERSONAL_COLUMNS: dict[str, str] = {"name": "customer_name", "email": "email",
                                    "phone": "phone", "owner": "owner"}
DEFAULT_PERSONAL_COLUMNS: tuple[str, ...] = ("name", "owner")
#: the staged customer master's columns behind them
MASTER_COLUMNS: dict[str, str] = {"name": "name", "email": "email", "phone": "phone",
                                  "owner": "owner"}
#: personal columns that only ever reach the list when allowed (the others always exist)
CONTACT_COLUMNS: tuple[str, ...] = ("email", "phone")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")


def personal_columns_setting(value: str | None) -> tuple[str, ...]:
    """`CHURN_PERSONAL_COLUMNS` as the allowed names, in their canonical order; unset: the
    default; `none`: no personal column. ValueError names an unknown one."""
    if value is None or not value.strip():
        return DEFAULT_PERSONAL_COLUMNS
    words = [w.strip().lower().replace("e-mail", "email") for w in value.split(",")]
    words = [w for w in words if w]
    if words == ["none"]:
        return ()
    unknown = [w for w in words if w not in PERSONAL_COLUMNS]
    if unknown:
        raise ValueError(f"CHURN_PERSONAL_COLUMNS: unknown column(s) {', '.join(unknown)}; "
                         f"use a comma-separated subset of {', '.join(PERSONAL_COLUMNS)}, "
                         "or none")
    return tuple(name for name in PERSONAL_COLUMNS if name in words)


def pseudonymize_setting(value: str | None) -> bool:
    """`CHURN_PSEUDONYMIZE` (set by `--pseudonymize`): 1/true/yes/on or 0/false/no/off."""
    word = (value or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"CHURN_PSEUDONYMIZE: {value!r} is neither on (1, true, yes) nor off "
                     "(0, false, no)")


def retention_days_setting(value: str | None) -> int | None:
    """`CHURN_RETENTION_DAYS`: a whole number of days ≥ 1, or unset (kept for ever)."""
    if value is None or not value.strip():
        return None
    try:
        days = int(value.strip())
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"CHURN_RETENTION_DAYS: {value!r} is not a whole number of days "
                         "(1 or more); unset it to keep archived runs for ever")
    return days


def staged_contact_columns(allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The contact columns the staged customer master keeps: only those a list may show."""
    return tuple(c for c in CONTACT_COLUMNS if c in allowed)


def with_personal_columns(risk: pd.DataFrame, master: pd.DataFrame | None,
                          allowed: tuple[str, ...]) -> pd.DataFrame:
    """`risk` with the personal columns `allowed` filled and the others empty: name and owner
    always exist (blank when not allowed); e-mail and phone are added, from `master`, only
    when allowed."""
    out = risk.copy()
    for setting in ("name", "owner"):
        column = PERSONAL_COLUMNS[setting]
        if setting not in allowed and column in out:
            out[column] = pd.Series(pd.NA, index=out.index, dtype="str")
    lookup = None
    if master is not None and len(master):
        lookup = master.assign(customer_id=master["customer_id"].astype(str)) \
            .drop_duplicates("customer_id").set_index("customer_id")
    for setting in staged_contact_columns(allowed):
        values = pd.Series(pd.NA, index=out.index, dtype="str")
        if lookup is not None and MASTER_COLUMNS[setting] in lookup:
            values = out["customer_id"].astype(str).map(lookup[MASTER_COLUMNS[setting]]) \
                .astype("str")
        out[PERSONAL_COLUMNS[setting]] = values.to_numpy()
    return out


def exported_contact_columns(risk: pd.DataFrame) -> list[str]:
    """The contact columns a risk list frame carries (so the exports show them)."""
    return [c for c in CONTACT_COLUMNS if c in risk.columns]


PSEUDONYM_PREFIX = "p-"
PSEUDONYM_HEX = 16  # 64 bits: collisions stay unlikely far beyond any customer base


def keyed_hash(value: str, key: bytes) -> str:
    """The full HMAC-SHA256 of `value` under `key`, hex."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonym(customer_id: str, key: bytes) -> str:
    """`p-` and 16 hex digits of the keyed hash: stable per key, not reversible without it."""
    return PSEUDONYM_PREFIX + keyed_hash(str(customer_id), key)[:PSEUDONYM_HEX]


def pseudonymized_ids(ids: pd.Series, key: bytes) -> pd.Series:
    """Each id's pseudonym (missing stays missing); each distinct id hashed once."""
    distinct = {v: pseudonym(v, key) for v in pd.unique(ids.dropna().astype(str))}
    return ids.astype(object).map(lambda v: distinct.get(str(v)) if pd.notna(v) else v)


def masked_contact(value: str) -> str:
    """An e-mail or phone shown without being given away: `in…@example.org`, `+3…78`; enough
    to recognise a shared mailbox or a switchboard number in a report, not to contact it."""
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:2]}…@{domain}"
    return f"{text[:2]}…{text[-2:]}" if len(text) > 4 else "…"


def masked_contacts(values: Iterable[str]) -> list[str]:
    return [masked_contact(v) for v in values]


_TOKEN = re.compile(r"[^\s|,;:()\[\]`*]+")


def pseudonymized_text(text: str, ids: Iterable[str], key: bytes) -> str:
    """`text` with every token that is one of `ids` replaced by its pseudonym (a markdown
    summary, a log line): one dictionary lookup per token, however many customers."""
    wanted = {str(i) for i in ids}
    return _TOKEN.sub(lambda m: pseudonym(m.group(0), key) if m.group(0) in wanted
                      else m.group(0), text)


#: the columns of the top-customers table artifact: no name, owner or contact detail (the
#: Prefect database is shared with whoever operates the server, and kept for ever)
ARTIFACT_COLUMNS = ["rank", "customer_id", "risk_tier", "churn_probability", "value_at_risk",
                    "reason_1", "suggested_action"]


def outbound_top_customers(risk: pd.DataFrame, key: bytes | None) -> pd.DataFrame:
    """The rows a Prefect artifact may show: `ARTIFACT_COLUMNS`, ids pseudonymised under
    `key` (None: as they are)."""
    out = risk[ARTIFACT_COLUMNS].copy()
    if key is not None:
        out["customer_id"] = pseudonymized_ids(out["customer_id"], key)
    return out
