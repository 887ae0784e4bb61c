"""Charts of people and paths: the funnel, path lengths, time lags and the top converting paths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.plotting._common import BAR, new_axes, number_axis, percent_axis, shorten, tidy

_FUNNEL_FIXED = ("by", "segment", "users", "customers", "customer_rate", "repeat_customers", "repeat_rate",
                 "days_to_convert_median", "days_to_convert_mean", "revenue", "revenue_per_customer",
                 "revenue_per_lead", "won", "lost", "win_rate")


def funnel_stages(funnel: pd.DataFrame) -> list[str]:
    """The stage columns of a funnel frame in funnel order: ``users``, the milestones, ``customers``."""
    cols = list(funnel.columns)
    start, end = cols.index("users"), cols.index("customers")
    middle = [c for c in cols[start + 1:end] if not c.endswith("_rate") and c not in _FUNNEL_FIXED]
    return ["users", *middle, "customers"]


def plot_funnel(funnel: pd.DataFrame, by: str = "all", segment: str = "all", ax=None):
    """Horizontal bars of the users reaching each funnel stage, each labelled with its count and its rate from
    the stage before.

    Parameters
    ----------
    funnel : pandas.DataFrame
        :func:`attribution.kpis.funnel.funnel_frame` (``by, segment, users, <stage>..., customers`` ...).
    by, segment : str
        The row to draw (default: every user, ``by="all"``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    rows = funnel[(funnel["by"].astype(str) == by) & (funnel["segment"].astype(str) == segment)]
    if len(rows) != 1:
        raise ValueError(f"the funnel has no single row by={by!r}, segment={segment!r}.")
    row = rows.iloc[0]
    stages = funnel_stages(funnel)
    counts = np.array([float(row[s]) for s in stages])
    ax = new_axes(ax, (9.0, 1.0 + 0.55 * len(stages)))
    y = np.arange(len(stages))[::-1]
    bars = ax.barh(y, counts, color=BAR, height=0.62)
    prev = np.r_[np.nan, counts[:-1]]
    labels = [f"{c:,.0f}" + ("" if not np.isfinite(p) or p == 0 else f"  ({c / p:.1%} of the stage before)")
              for c, p in zip(counts, prev)]
    ax.bar_label(bars, labels=labels, padding=4, fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels([s.replace("_", " ") for s in stages])
    ax.set_xlabel("Users reaching the stage")
    ax.set_ylabel("Stage")
    number_axis(ax.xaxis)
    ax.margins(x=0.35)
    ax.set_title("Funnel: users to customers" + ("" if by == "all" else f" ({by} = {segment})"))
    tidy(ax, "x")
    return ax


def plot_path_lengths(lengths: pd.DataFrame, value: str = "conversions", ax=None):
    """Bars per path length (touches in the journey) of the conversions, journeys or conversion rate.

    Parameters
    ----------
    lengths : pandas.DataFrame
        :func:`attribution.kpis.pathstats.path_length_distribution` (``touches, label, journeys, conversions, ...``).
    value : {"conversions", "journeys", "conversion_rate"}
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    titles = {"conversions": "Conversions", "journeys": "Journeys", "conversion_rate": "Conversion rate"}
    if value not in titles:
        raise ValueError(f"value must be one of {', '.join(titles)}. Got {value!r} instead.")
    ax = new_axes(ax, (9.0, 4.0))
    labels = [str(lab) for lab in lengths["label"]]
    ax.bar(np.arange(len(labels)), lengths[value].to_numpy(float), color=BAR)
    ax.set_xticks(np.arange(len(labels)))
    ax.set_xticklabels(labels, rotation=30 if len(labels) > 14 else 0)
    ax.set_xlabel("Touches in the journey" + (" (0: none in the lookback window)" if "0" in labels else ""))
    ax.set_ylabel(titles[value])
    if value == "conversion_rate":
        percent_axis(ax.yaxis)
    else:
        number_axis(ax.yaxis)
    ax.set_title(f"{titles[value]} by path length")
    tidy(ax)
    return ax


def plot_time_lags(lags: pd.DataFrame, ax=None):
    """Bars of the share of conversions by the time from the journey's first touch to the conversion.

    Parameters
    ----------
    lags : pandas.DataFrame
        :func:`attribution.kpis.pathstats.time_lag_distribution` (``label, conversions, share`` per bin).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, (9.0, 4.0))
    x = np.arange(len(lags))
    bars = ax.bar(x, lags["share"].to_numpy(float), color=BAR)
    ax.bar_label(bars, labels=[f"{c:,.0f}" for c in lags["conversions"]], padding=2, fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels(lags["label"].astype(str).tolist(), rotation=20, ha="right")
    ax.set_xlabel("Time from first touch to conversion")
    ax.set_ylabel("Share of conversions")
    percent_axis(ax.yaxis)
    ax.set_title("Time lag to conversion (labels: conversions)")
    tidy(ax)
    return ax


def plot_top_paths(paths: pd.DataFrame, value: str = "conversions", ax=None):
    """Horizontal bars of the top paths' conversions (or revenue), each labelled with its conversion rate.

    Parameters
    ----------
    paths : pandas.DataFrame
        :func:`attribution.kpis.pathstats.top_paths` (``path, conversions, revenue, conversion_rate`` ...), most first.
    value : {"conversions", "revenue", "journeys"}
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    if value not in ("conversions", "revenue", "journeys"):
        raise ValueError(f"value must be conversions, revenue or journeys. Got {value!r} instead.")
    ax = new_axes(ax, (9.5, 1.0 + 0.36 * max(len(paths), 1)))
    y = np.arange(len(paths))[::-1]
    bars = ax.barh(y, paths[value].to_numpy(float), color=BAR)
    ax.bar_label(bars, labels=[f"{r:.0%} convert" for r in paths["conversion_rate"].to_numpy(float)], padding=3,
                 fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels([shorten(p, 52) for p in paths["path"]], fontsize=8)
    ax.set_xlabel(value.capitalize())
    ax.set_ylabel("Path (channels in order)")
    number_axis(ax.xaxis)
    ax.margins(x=0.15)
    ax.set_title(f"Top {len(paths)} paths by {value}")
    tidy(ax, "x")
    return ax
