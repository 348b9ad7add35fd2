"""Rendering the deliverable in the retention team's language (en, tr, nl).

Reasons and actions are computed as language-neutral keys with parameters; this module turns
them into sentences. Names a user defines (a custom tier or a free-text playbook action) have
no catalog entry and are shown as written.
"""

from __future__ import annotations

import string
from types import ModuleType
from typing import Literal

from models.reason_rules import Count
from pipelines.deliver.catalogs import en, nl, tr

Lang = Literal["en", "tr", "nl"]
LANGUAGES: dict[str, ModuleType] = {"en": en, "tr": tr, "nl": nl}


def catalog(lang: str) -> ModuleType:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return LANGUAGES[lang]


def format_number(value: float, lang: str, decimals: int = 0) -> str:
    """Locale separators: 1,234.5 (en), 1.234,5 (tr, nl)."""
    number = catalog(lang).NUMBER
    text = f"{value:,.{decimals}f}"
    swapped = text.replace(",", "\0").replace(".", number["decimal"])
    return swapped.replace("\0", number["thousands"])


def _render_value(value: object, lang: str) -> str:
    if isinstance(value, Count):
        singular, plural = catalog(lang).NOUNS[value.noun]
        n = int(round(value.n))
        return f"{format_number(n, lang)} {singular if n == 1 else plural}"
    if isinstance(value, float):
        return format_number(value, lang, 0 if value.is_integer() else 1)
    if isinstance(value, int):
        return format_number(value, lang)
    return str(value)


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, params: dict[str, object], lang: str) -> str:
    return template.format(**{k: _render_value(v, lang) for k, v in params.items()})


def render_reason(key: str, params: dict[str, object], lang: str) -> str:
    return render(catalog(lang).REASONS[key], params, lang)


def render_action(key: str, params: dict[str, object], lang: str) -> str:
    """A playbook action: a catalog key, or free text written by the user (shown as is)."""
    template = catalog(lang).ACTIONS.get(key)
    return key if template is None else render(template, params, lang)


def tier_label(name: str, lang: str) -> str:
    return catalog(lang).TIERS.get(name, name)


def segment_label(name: str, lang: str) -> str:
    return catalog(lang).SEGMENTS.get(name, name)


def group_label(group: str, lang: str) -> str:
    return catalog(lang).GROUPS.get(group, group)


def column_label(column: str, lang: str) -> str:
    return catalog(lang).COLUMNS.get(column, column)


def _label(table: str, key: str, lang: str, params: dict[str, object]) -> str:
    template = getattr(catalog(lang), table)[key]
    return render(template, params, lang) if params else template


def report_label(key: str, lang: str, **params: object) -> str:
    return _label("REPORT", key, lang, params)


def summary_label(key: str, lang: str, **params: object) -> str:
    """A line or label of the run summary (terminal and report.md) in `lang`."""
    return _label("SUMMARY", key, lang, params)


def analytics_label(key: str, lang: str, **params: object) -> str:
    """A label or sentence of the analytics page and workbook (`churn analyze`) in `lang`."""
    return _label("ANALYTICS", key, lang, params)


def metric_label(name: str, lang: str) -> str:
    """A model-quality metric's name as the report shows it (the key when it has none)."""
    return catalog(lang).METRICS.get(name, name)


def percent(value: float, lang: str, decimals: int = 1) -> str:
    """`12.5 %` / `%12,5` (tr writes the sign first) for a share in [0, 1]."""
    number = format_number(100 * value, lang, decimals)
    return f"%{number}" if lang == "tr" else f"{number} %"
