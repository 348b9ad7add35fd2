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


# Salesforce record ids come in two forms: 15 characters, case-sensitive (what reports and the
# UI show), and 18, the same 15 plus three characters that encode which of them are upper case
# (what the API, Data Loader and the weekly Data Export write). One account exported both ways
# must link, so ids of the `salesforce` space link by their 18-character form.
_SALESFORCE_15 = re.compile(r"[A-Za-z0-9]{15}")
_SALESFORCE_18 = re.compile(r"[A-Za-z0-9]{15}[A-Za-z0-5]{3}")
_SALESFORCE_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id_18(value: str) -> str:
    """A Salesforce id in its 18-character form: a 15-character id gets its case suffix; an
    18-character one its case back from the suffix (a system that changed the case of the id,
    which the suffix exists for, cannot change which record it names). Any other text, and
    18 characters whose suffix no casing of the first 15 gives, are returned as they are."""
    if _SALESFORCE_15.fullmatch(value):
        return value + _case_suffix(value)
    if not _SALESFORCE_18.fullmatch(value):
        return value
    given = value[15:].upper()
    bits = [_SALESFORCE_SUFFIX.index(c) for c in given]
    cased = "".join(c.upper() if bits[i // 5] >> (i % 5) & 1 else c.lower()
                    for i, c in enumerate(value[:15]))
    return cased + given if _case_suffix(cased) == given else value


def _case_suffix(id15: str) -> str:
    """Three characters, one per five of the id: which of those five are upper case."""
    return "".join(
        _SALESFORCE_SUFFIX[sum(1 << i for i, c in enumerate(id15[start:start + 5])
                               if "A" <= c <= "Z")]
        for start in (0, 5, 10))


#: id spaces whose ids have several written forms: the function to the form they link by
SPACE_ID_FORMS = {"salesforce": salesforce_id_18}


def linking_ids(values: pd.Series, space: str) -> pd.Series:
    """The ids of `space` in the form they link by (most spaces: as written)."""
    form = SPACE_ID_FORMS.get(space)
    return _with_none(map_unique(values, lambda v: form(str(v)))) if form else values
