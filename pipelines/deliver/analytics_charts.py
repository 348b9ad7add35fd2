"""Charts of the analytics page, drawn like the report's (Agg canvas, base64 PNG)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap

from pipelines.deliver.charts import INK, _decimal_ticks, _figure, _png_data_uri

BLUE, RED, GREY = "#3182ce", "#d64545", "#a0aec0"
HEAT = LinearSegmentedColormap.from_list("retention", ["#fff5f5", "#90cdf4", "#2b6cb0"])


def rate_lines(x: list[str], series: dict[str, pd.Series], ylabel: str,
               decimal: str = ".") -> str:
    """One line per named series of shares (drawn as %), periods on the x axis."""
    figure, axes = _figure(6.0, 3.2)
    _decimal_ticks(axes, decimal, x=False)
    for (name, values), colour in zip(series.items(), (BLUE, RED, GREY), strict=False):
        axes.plot(x, 100 * values.to_numpy(float), marker="o", color=colour, label=name)
    axes.set_ylabel(ylabel + " (%)", color=INK)
    axes.set_ylim(0, 100)
    axes.legend(fontsize=8, frameon=False)
    axes.tick_params(axis="x", labelrotation=45)
    return _png_data_uri(figure)


def heat_map(matrix: pd.DataFrame, xlabel: str, ylabel: str, decimal: str = ".") -> str:
    """Cohorts x months since, shares drawn as % in each cell (empty cells left blank)."""
    rows, columns = matrix.shape
    figure, axes = _figure(min(11.0, 1.2 + 0.55 * columns), max(2.4, 0.32 * rows + 1.2))
    values = 100 * matrix.to_numpy(float)
    axes.imshow(np.ma.masked_invalid(values), cmap=HEAT, vmin=0, vmax=100, aspect="auto")
    for i in range(rows):
        for j in range(columns):
            if np.isfinite(values[i, j]):
                axes.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=6.5,
                          color="white" if values[i, j] > 70 else INK)
    axes.set_xticks(range(columns), [str(c) for c in matrix.columns])
    axes.set_yticks(range(rows), [str(r) for r in matrix.index])
    axes.set_xlabel(xlabel, color=INK)
    axes.set_ylabel(ylabel, color=INK)
    axes.spines[["left", "bottom"]].set_visible(False)
    return _png_data_uri(figure)


def rates_with_intervals(labels: list[str], rates: pd.Series, low: pd.Series, high: pd.Series,
                         ylabel: str, decimal: str = ".") -> str:
    """Bars of shares (as %) with their interval as error bars; the first bar grey (the
    reference group)."""
    figure, axes = _figure(6.0, 3.2)
    _decimal_ticks(axes, decimal, x=False)
    values = 100 * rates.to_numpy(float)
    errors = np.vstack([values - 100 * low.to_numpy(float), 100 * high.to_numpy(float) - values])
    colours = [GREY] + [RED] * (len(labels) - 1)
    axes.bar(labels, np.nan_to_num(values), color=colours,
             yerr=np.clip(np.nan_to_num(errors), 0, None), capsize=4, ecolor=INK)
    axes.set_ylabel(ylabel + " (%)", color=INK)
    return _png_data_uri(figure)


def pareto(curve: pd.DataFrame, xlabel: str, ylabel: str, mark: float,
           decimal: str = ".") -> str:
    """The cumulative revenue share against the customer share, `mark` highlighted."""
    figure, axes = _figure(4.6, 3.4)
    _decimal_ticks(axes, decimal)
    x, y = 100 * curve["customer_share"], 100 * curve["revenue_share"]
    axes.plot(x, y, color=BLUE)
    axes.plot([0, 100], [0, 100], linestyle="--", color=GREY)
    at = float(np.interp(mark, curve["customer_share"], curve["revenue_share"]))
    axes.axvline(100 * mark, color=RED, linewidth=0.8)
    axes.plot([100 * mark], [100 * at], marker="o", color=RED)
    axes.set_xlabel(xlabel + " (%)", color=INK)
    axes.set_ylabel(ylabel + " (%)", color=INK)
    return _png_data_uri(figure)
