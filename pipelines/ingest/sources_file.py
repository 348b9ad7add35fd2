"""Header synonyms (English, Turkish, Dutch) and the optional `sources.yaml` mapping file.

`sources.yaml` in the data dir pins, per file pattern (glob against `<kind>/<file name>`):

    files:
      - pattern: "purchases/logo_*.csv"
        kind: purchases          # where the file's rows go (default: its folder)
        preset: logo             # or shopify, zendesk, freshdesk, netsis, woocommerce,
                                 # hubspot-engagements, hubspot-contacts, trendyol,
                                 # hepsiburada, bol, mollie, shopify-customers,
                                 # mailchimp, mikro, exact, logo-db,
                                 # woocommerce-export, none
        encoding: cp1254         # wins over detection
        delimiter: ";"
        locale: tr               # en, tr or nl: decimal comma and day-first dates for tr/nl
        timezone: Europe/Istanbul  # naive timestamps are local times here
        country: TR              # phone numbers written without +90 are Turkish
        id_space: zendesk        # these customer ids are that system's own numbers, not
                                 # the business's customer number (default: shared by all)
        columns: {Müşteri: customer_id}   # header -> canonical column
        date_formats: {order_date: dd.MM.yyyy}  # pins the one accepted shape
        statuses: {Bezorgd: completed}  # extra order status words

The first matching entry wins; keys left out are detected. `churn ingest --write-mapping`
writes a commented starting point, `sources.yaml.suggested`, next to it (never this file).
"""

from __future__ import annotations

import codecs
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from pipelines.ingest.cells import DATE_FORMAT_NAMES, LOCALES
from pipelines.ingest.keys import valid_country


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
    country: str | None = None
    id_space: str | None = None
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
    except UnicodeDecodeError:
        raise MappingFileError(f"{path.name}: is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as error:
        raise MappingFileError(_yaml_problem(path.name, error)) from None
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
        rule = _rule(entry, f"{path.name}: entry {number}")
        _check_values(rule, f"{path.name}: entry {number}")
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


def _yaml_problem(name: str, error: yaml.YAMLError) -> str:
    """One line for a YAML error: where, and what to do (no parser dump)."""
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
    if isinstance(error, yaml.constructor.ConstructorError):
        return (f"{name}: {where}: YAML tags (`!!python/...`, `!tag`) are not allowed; write "
                "plain text values")
    problem = str(getattr(error, "problem", "") or "").strip()
    return (f"{name}: not valid YAML at {where}" + (f" ({problem})" if problem else "")
            + "; check the indentation and quotes there")


def valid_timezone(name: str) -> bool:
    """Whether naive times can be read in `name` (an IANA zone such as Europe/Istanbul)."""
    try:
        pd.Timestamp("2024-01-01").tz_localize(name)
    except Exception:  # zoneinfo, pytz and dateutil raise different types
        return False
    return True


def _check_values(rule: SourceRule, where: str) -> None:
    """Values that would otherwise fail deep inside the reading, refused here with a sentence."""
    if rule.pattern.startswith(("/", "\\")) or ".." in rule.pattern.replace("\\", "/").split("/"):
        raise MappingFileError(f"{where}: pattern {rule.pattern!r} points outside raw/; patterns "
                               "are globs on <kind>/<file name> under raw/, e.g. 'purchases/*'")
    if rule.timezone is not None and not valid_timezone(rule.timezone):
        raise MappingFileError(f"{where}: unknown time zone {rule.timezone!r}; use an IANA name "
                               "such as Europe/Istanbul, Europe/Amsterdam or UTC")
    if rule.country is not None and not valid_country(rule.country):
        raise MappingFileError(f"{where}: unknown country {rule.country!r}; use a two-letter "
                               "ISO code such as TR, NL, BE or DE")
    if rule.id_space is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,39}",
                                                      rule.id_space):
        raise MappingFileError(f"{where}: id_space {rule.id_space!r} must be a short lower-case "
                               "name such as zendesk or webshop")
    if rule.delimiter is not None and len(rule.delimiter) != 1:
        raise MappingFileError(f"{where}: delimiter must be one character (, ; | or a tab "
                               f"written \"\\t\"), not {rule.delimiter!r}")
    if rule.encoding is not None:
        try:
            codecs.lookup(rule.encoding)
        except LookupError:
            raise MappingFileError(f"{where}: unknown encoding {rule.encoding!r}; use e.g. "
                                   "utf-8, cp1254 or cp1252") from None


_MAPPINGS = ("columns", "date_formats", "statuses")  # the keys whose value is a mapping


def _rule(entry: dict[object, object], where: str) -> SourceRule:
    """One entry's values as text (mappings of text for `columns`, `date_formats`, `statuses`);
    a mapping where one value belongs, or the reverse, is a MappingFileError."""
    texts: dict[str, str] = {}
    mappings: dict[str, dict[str, str]] = {}
    for key, value in entry.items():
        name = str(key)
        if value is None:  # `preset:` with nothing after it: not given, so it is detected
            if name == "pattern":
                raise MappingFileError(f"{where}: `pattern` is empty; give a file pattern such "
                                       "as `purchases/*.csv`")
            continue
        if name in _MAPPINGS:
            if not isinstance(value, dict):
                raise MappingFileError(f"{where}: `{name}` must be a mapping, e.g. "
                                       f"`{name}: {{a: b}}`")
            mappings[name] = {str(a): str(b) for a, b in value.items()}
        elif isinstance(value, dict):
            raise MappingFileError(f"{where}: `{name}` must be a single value")
        else:
            texts[name] = str(value)
    return SourceRule(
        pattern=texts["pattern"], kind=texts.get("kind"), preset=texts.get("preset"),
        encoding=texts.get("encoding"), delimiter=texts.get("delimiter"),
        locale=texts.get("locale"), timezone=texts.get("timezone"),
        country=texts["country"].upper() if "country" in texts else None,
        id_space=texts.get("id_space"),
        columns=mappings.get("columns", {}), date_formats=mappings.get("date_formats", {}),
        statuses=mappings.get("statuses", {}))


def rule_for(rules: list[SourceRule], relative: str) -> SourceRule:
    """The first rule whose pattern matches `<kind>/<file>`, else an all-detect rule."""
    for rule in rules:
        if fnmatch.fnmatch(relative, rule.pattern) or fnmatch.fnmatch(
                relative.split("/")[-1], rule.pattern):
            return rule
    return SourceRule()
