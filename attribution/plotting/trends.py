"""A KPI over periods, from a table cut with ``--period``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.kpis.compare import channel_totals

from attribution.plotting._common import colour, legend_outside, new_axes, number_axis, percent_axis, pick_model, tidy
from attribution.exceptions import option

_LABELS = {"conversions": "Attributed conversions", "revenue": "Attributed revenue", "spend": "Spend",
           "share": "Share of conversions", "roas": "ROAS (revenue / spend)",
           "roi": "ROI ((revenue − spend) / spend)", "cpa": "CPA (spend per conversion)"}
_RATIOS = {"roas": ("revenue", "spend", 0.0), "roi": ("revenue", "spend", -1.0), "cpa": ("spend", "conversions", 0.0)}


def plot_kpi_trend(table: pd.DataFrame, metric: str = "conversions", model: str | None = None, channels=None,
                   total: bool = True, ax=None):
    """One line per channel of a KPI by period, for one model (and the all-channel total or blended ratio).

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table with a ``period`` column (a run with ``--period``); campaigns are summed over and ratios
        recomputed from the sums.
    metric : {"conversions", "revenue", "spend", "share", "roas", "roi", "cpa"}
    model : str, optional
        The model to draw; needed when the table holds more than one.
    channels : list of str, optional
        The channels to draw (default: all but ``(none)``).
    total : bool
        Also draw the total over the channels drawn (for a ratio: the blended ratio of their sums), dashed.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    if metric not in _LABELS:
        raise ValueError(f"metric must be one of {', '.join(_LABELS)}. Got {metric!r} instead.")
    if "period" not in table.columns:
        raise ValueError(f"plot_kpi_trend needs a table cut by period (run with {option('period', 'day')}, week or month).")
    if metric in ("spend", "roas", "roi", "cpa") and "spend" not in table.columns:
        raise ValueError(f"metric {metric!r} needs a table with spend (run with a spend table).")
    name = pick_model(table, model, "plot_kpi_trend")
    rows = channel_totals(table[table["model"].astype(str) == name], by_period=True)
    if channels is not None:
        rows = rows[rows["channel"].astype(str).isin([str(c) for c in channels])]
    periods = pd.Index(sorted(rows["period"].unique()))
    wide = rows.pivot(index="period", columns="channel", values=metric).reindex(periods)
    x = pd.to_datetime(pd.Series(periods, dtype=object)).to_numpy()
    ax = new_axes(ax, (10.0, 4.5))
    for i, ch in enumerate(wide.columns):
        ax.plot(x, wide[ch].to_numpy(float), marker="o", markersize=3.5, linewidth=1.6, color=colour(i),
                label=str(ch))
    if total and metric != "share":
        sums = rows.groupby("period")[[c for c in ("conversions", "revenue", "spend") if c in rows]].sum()
        sums = sums.reindex(periods)
        if metric in _RATIOS:
            num, den, shift = _RATIOS[metric]
            d = sums[den].to_numpy(float)
            line = np.divide(sums[num].to_numpy(float), d, out=np.full(len(d), np.nan), where=d != 0) + shift
        else:
            line = sums[metric].to_numpy(float)
        ax.plot(x, line, color="black", linestyle="--", linewidth=2.0,
                label="all channels" if metric not in _RATIOS else "blended")
    ax.set_xlabel("Period")
    ax.set_ylabel(_LABELS[metric])
    if metric in ("share", "roi"):
        percent_axis(ax.yaxis)
    else:
        number_axis(ax.yaxis)
    ax.set_title(f"{_LABELS[metric].split(' (')[0]} by period ({name})")
    _period_ticks(ax, x, periods)
    tidy(ax)
    legend_outside(ax, "Channel")
    return ax


def _period_ticks(ax, x, periods) -> None:
    """A tick per period (its first day) when there are few, else matplotlib's concise date ticks."""
    import matplotlib.dates as mdates

    if len(periods) <= 12:
        ax.set_xticks(x)
        ax.set_xticklabels([str(p) for p in periods], rotation=30 if len(periods) > 4 else 0,
                           ha="right" if len(periods) > 4 else "center")
    else:
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
