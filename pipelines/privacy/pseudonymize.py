"""Keyed hashes of customer ids for what leaves the data dir, and masked contact keys.

With `--pseudonymize` (`CHURN_PSEUDONYMIZE=1`), customer ids in Prefect artifacts, run logs and
alerts are replaced by `HMAC-SHA256(key, id)`, shortened: the same customer gets the same
pseudonym in every run (so operators can follow one), and nobody without the key can tell
who it is or test a guess. The key comes from `CHURN_PSEUDONYM_KEY` and never from a file in
the data dir, so the stores cannot be reversed with what they hold themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable

import pandas as pd

KEY_VARIABLE = "CHURN_PSEUDONYM_KEY"
MIN_KEY_CHARS = 16
PSEUDONYM_PREFIX = "p-"
PSEUDONYM_HEX = 16  # 64 bits: collisions stay unlikely far beyond any customer base


class PseudonymKeyError(ValueError):
    """`--pseudonymize` without a usable key."""


def pseudonym_key() -> bytes:
    """The key from `CHURN_PSEUDONYM_KEY`; PseudonymKeyError (one sentence) when unset or short."""
    key = os.environ.get(KEY_VARIABLE, "")
    if len(key) < MIN_KEY_CHARS:
        raise PseudonymKeyError(
            f"--pseudonymize needs a secret key of at least {MIN_KEY_CHARS} characters in "
            f"{KEY_VARIABLE} (e.g. `export {KEY_VARIABLE}=$(openssl rand -hex 32)`); keep it "
            "outside the data dir and the same from run to run")
    return key.encode("utf-8")


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
