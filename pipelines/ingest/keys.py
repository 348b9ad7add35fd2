"""Customer keys as the systems write them, normalised so the same customer meets itself.

A row names its customer by an id (in an *id space*: the business's own customer number, or a
system's internal number such as Zendesk's requester id), an e-mail address or a phone number.
E-mails are trimmed and case-folded (`mailto:` and a display name `Ayşe <a@b.nl>` removed);
phones become E.164 (`+905321234567`) with the file's country for numbers written without
one. Nothing here guesses from names: a name is never a key.
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from pipelines.ingest.cells import map_unique

#: The key columns a raw export may carry besides `customer_id` (the id); any kind may have them.
LINK_COLUMNS = ("email", "phone")
KEY_COLUMNS = ("customer_id", *LINK_COLUMNS)
#: A preset's further id columns: `_id:<space>` (e.g. `_id:zendesk` next to the external id).
EXTRA_ID_PREFIX = "_id:"
#: The id space of the business's own customer number, shared by every file that names none.
SHARED_SPACE = ""

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]{2,}$")
_DISPLAY_NAME = re.compile(r"^.*<\s*([^<>]+?)\s*>\s*$")

#: Country used for phone numbers written without one, by the locale of the file's text.
LOCALE_COUNTRIES = {"tr": "TR", "nl": "NL"}


def mappable_columns(kind: str) -> set[str]:
    """The canonical columns a header of a `kind` export can fill: the staged table's own and
    the customer keys (`email`, `phone`: kept in the customer master, links everywhere)."""
    from features.contracts import STAGED_SCHEMAS

    return set(STAGED_SCHEMAS[kind].to_schema().columns) | set(LINK_COLUMNS)


def missing_required(required: tuple[str, ...], columns) -> list[str]:
    """The required columns a mapped export lacks; `customer_id` is there when any customer
    key is (an id, an e-mail, a phone number or a preset's further id)."""
    present = set(columns)
    has_key = any(c in present for c in KEY_COLUMNS) or any(
        str(c).startswith(EXTRA_ID_PREFIX) for c in present)
    return [c for c in required if c not in present and not (c == "customer_id" and has_key)]


def looks_like_email(values: pd.Series) -> pd.Series:
    """Which cells are e-mail addresses (after the normalisation of `normalised_emails`)."""
    return normalised_emails(values).notna()


def normalised_emails(values: pd.Series) -> pd.Series:
    """`Ayse.Yilmaz@Example.COM ` -> `ayse.yilmaz@example.com`; anything that is not one
    address (empty, `N/A`, two addresses, no domain) becomes missing."""
    def one(value: object) -> str | None:
        if not isinstance(value, str):
            return None
        text = value.strip().strip("'\"")
        match = _DISPLAY_NAME.match(text)
        text = (match.group(1) if match else text).strip()
        text = re.sub(r"^mailto:", "", text, flags=re.I).casefold()
        return text if _EMAIL.match(text) else None
    return _with_none(map_unique(values, one))


def normalised_phones(values: pd.Series, country: str | None) -> pd.Series:
    """Phone numbers as E.164 (`0532 123 45 67` in TR -> `+905321234567`); a number written
    without its country code needs `country`; what cannot be a number becomes missing."""
    import phonenumbers

    def one(value: object) -> str | None:
        if not isinstance(value, str):
            return None
        text = value.strip().lstrip("'").strip()
        if not re.search(r"\d{5}", re.sub(r"\D", "", text)):
            return None
        if text.startswith("00"):
            text = "+" + text[2:]
        try:
            number = phonenumbers.parse(text, None if text.startswith("+") else country)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return _with_none(map_unique(values, one))


def _with_none(values: pd.Series) -> pd.Series:
    """Text cells with None (not NaN) for missing, as the other staged text columns."""
    values = values.astype(object)
    values[values.isna()] = None
    return values


def phone_country(country: str | None, locale: str, timezone: str | None = None) -> str | None:
    """The country for national phone numbers: the one given, else the file's language's,
    else the country of the file's time zone (Europe/Amsterdam -> NL; UTC -> none)."""
    return country or LOCALE_COUNTRIES.get(locale) or zone_country(timezone)


@functools.cache
def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO country, from the tz database's zone.tab (shipped with tzdata)."""
    import importlib.resources

    try:
        text = (importlib.resources.files("tzdata.zoneinfo") / "zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}


def zone_country(timezone: str | None) -> str | None:
    return _zone_countries().get(timezone or "")


def valid_country(country: str) -> bool:
    import phonenumbers

    return country.upper() in phonenumbers.SUPPORTED_REGIONS
