"""Report charts drawn with matplotlib's Agg canvas and embedded as base64 PNG (no network)."""

from __future__ import annotations

import base64
import io

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

# Most urgent tier, second, any further tier, the default (safe) tier, the lapsed tier.
PALETTE = ("#d64545", "#ed8936", "#d69e2e", "#38a169", "#a0aec0")
INK = "#2d3748"


def _figure(width: float = 6.0, height: float = 3.2) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=110)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(colors=INK, labelsize=8)
    return figure, axes


def _decimal_ticks(axes: Axes, decimal: str, *, x: bool = True, y: bool = True) -> None:
    """Tick labels with the report language's decimal separator (0,2 in tr/nl)."""
    formatter = FuncFormatter(lambda value, _pos: f"{value:g}".replace(".", decimal))
    if x:
        axes.xaxis.set_major_formatter(formatter)
    if y:
        axes.yaxis.set_major_formatter(formatter)


def _png_data_uri(figure: Figure) -> str:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def tier_colours(tiers: list[str], lapsed: str | None = None,
                 palette: tuple[str, ...] = PALETTE) -> dict[str, str]:
    """Most urgent red ... the default tier green; the lapsed tier (when in `tiers`) grey.

    `tiers` is a policy's `names`: its tiers, the default, then the lapsed tier if any.
    """
    muted = [lapsed] if lapsed in tiers else []
    ranked = [t for t in tiers if t not in muted]
    colours = [palette[min(i, 2)] for i in range(len(ranked) - 1)] + [palette[3]]
    return {**dict(zip(ranked, colours, strict=True)), **{t: palette[4] for t in muted}}


def risk_distribution(probability: pd.Series, tiers: pd.Series, order: list[str],
                      labels: dict[str, str], xlabel: str, ylabel: str,
                      decimal: str = ".", lapsed: str | None = None) -> str:
    figure, axes = _figure()
    _decimal_ticks(axes, decimal)
    colours = tier_colours(order, lapsed)
    bins = [i / 20 for i in range(21)]
    stacked = [probability[tiers == t] for t in order]
    axes.hist(stacked, bins=bins, stacked=True, color=[colours[t] for t in order],
              label=[labels[t] for t in order])
    axes.set_xlabel(xlabel, color=INK)
    axes.set_ylabel(ylabel, color=INK)
    axes.legend(fontsize=8, frameon=False)
    return _png_data_uri(figure)


def horizontal_bars(values: pd.Series, xlabel: str, colour: str = "#3182ce",
                    decimal: str = ".") -> str:
    """One bar per index label, largest on top."""
    values = values.sort_values()
    figure, axes = _figure(6.0, max(2.0, 0.38 * len(values) + 0.8))
    _decimal_ticks(axes, decimal, y=False)
    axes.barh([str(i) for i in values.index], values.to_numpy(), color=colour)
    axes.set_xlabel(xlabel, color=INK)
    return _png_data_uri(figure)


def line(x: pd.Series, y: pd.Series, xlabel: str, ylabel: str, percent: bool = True,
         decimal: str = ".") -> str:
    figure, axes = _figure()
    _decimal_ticks(axes, decimal, x=False)
    axes.plot(x, y * (100 if percent else 1), marker="o", color="#3182ce")
    axes.set_xlabel(xlabel, color=INK)
    axes.set_ylabel(ylabel + (" (%)" if percent else ""), color=INK)
    axes.set_ylim(bottom=0)
    figure.autofmt_xdate()
    return _png_data_uri(figure)


def calibration(predicted: pd.Series, observed: pd.Series, xlabel: str, ylabel: str,
                decimal: str = ".") -> str:
    figure, axes = _figure(4.0, 3.2)
    _decimal_ticks(axes, decimal)
    axes.plot([0, 1], [0, 1], linestyle="--", color="#a0aec0")
    axes.plot(predicted, observed, marker="o", color="#3182ce")
    axes.set_xlabel(xlabel, color=INK)
    axes.set_ylabel(ylabel, color=INK)
    return _png_data_uri(figure)


def lift(deciles: pd.Series, lifts: pd.Series, xlabel: str, ylabel: str,
         decimal: str = ".") -> str:
    figure, axes = _figure(4.0, 3.2)
    _decimal_ticks(axes, decimal, x=False)
    axes.bar(deciles.astype(str), lifts, color="#3182ce")
    axes.axhline(1.0, linestyle="--", color="#a0aec0")
    axes.set_xlabel(xlabel, color=INK)
    axes.set_ylabel(ylabel, color=INK)
    return _png_data_uri(figure)
