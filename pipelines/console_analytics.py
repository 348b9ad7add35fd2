"""What `churn analyze` prints: the headline figures of the analytics run (no IO)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from pipelines.deliver.i18n import analytics_label, format_number, percent


def print_analytics(result: dict[str, Any], out: Console, lang: str = "en") -> None:
    """Retention of the latest periods, the top share, the band sentence, the CLV verdict and
    where the files are."""
    label = lambda key, **p: analytics_label(key, lang, **p)  # noqa: E731
    headline, summary = result["headline"], result["result"]
    out.print(f"[bold]{label('title')}[/bold] · {result['as_of']}")
    for row in summary["retention"][-3:]:
        out.print(f"  {label('retention_latest', period=row['period'])}: "
                  f"{percent(row['retention_rate'], lang)} "
                  f"({format_number(row['customers'], lang)} {label('customers').lower()})")
    out.print(f"  {label('headline_top_share', share=percent(headline['top_share'], lang, 0))}:"
              f" {percent(headline['top_revenue_share'], lang)}")
    if headline.get("top_share_in_top_tiers") is not None:
        out.print(f"  {label('headline_top_at_risk')}: "
                  f"{percent(headline['top_share_in_top_tiers'], lang)}")
    for sentence in (headline.get("band_sentence"), headline.get("clv_verdict")):
        if sentence:
            out.print(f"  {sentence}", soft_wrap=True)
    out.print(f"page: {result['page']}", soft_wrap=True)
    out.print(f"workbook: {result['workbook']}", soft_wrap=True)
