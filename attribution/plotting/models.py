"""Charts comparing models: shares side by side (with truth and intervals), a share heatmap, ROAS / ROI / CPA."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.kpis.compare import models_in_order, channel_totals, compare_table
from attribution.journeys.journeys import NONE_CHANNEL

from attribution.plotting._common import colour, legend_outside, new_axes, number_axis, percent_axis, tidy

_VALUE_LABELS = {"share": "Share of conversions", "conversions": "Attributed conversions",
                 "revenue": "Attributed revenue"}


def plot_model_comparison(table: pd.DataFrame, value: str = "share", truth: pd.DataFrame | None = None,
                          touchless: bool = False, ax=None):
    """Grouped bars: one group per channel, one bar per model; the true share as a black line when given.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy attribution table (``model, channel, conversions, revenue`` ...); periods and campaigns are summed
        over. With ``conversions_lo/hi`` (``revenue_lo/hi``) intervals, bars get error bars.
    value : {"share", "conversions", "revenue"}
        ``share`` is the share of :func:`attribution.kpis.compare.compare_table`: the channel's conversions over the
        model's conversions on real channels (touchless ``(none)`` left out unless ``touchless``).
    truth : pandas.DataFrame, optional
        ``channel`` and the same ``value`` column (``share`` of :func:`attribution.sim.datasets.sample_ground_truth`,
        which is over real channels too); drawn as a black line across each channel's group.
    touchless : bool
        Keep the ``(none)`` channel of touchless conversions.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    if value not in _VALUE_LABELS:
        raise ValueError(f"value must be one of {', '.join(_VALUE_LABELS)}. Got {value!r} instead.")
    ax = new_axes(ax, (11.0, 4.8))
    totals = channel_totals(table, touchless=touchless)
    models = models_in_order(table)
    channels = compare_table(table, touchless=touchless)["channel"].tolist()  # by decreasing mean share
    wide = totals.pivot(index="channel", columns="model", values=value).reindex(index=channels, columns=models)
    base = "conversions" if value == "share" else value
    lo_hi = [f"{base}_lo", f"{base}_hi"]
    has_ci = all(c in totals.columns for c in lo_hi)
    if has_ci:
        scale = 1.0
        if value == "share":  # the interval of a share: the conversions' interval over the model's point total
            scale = totals.groupby("model")["conversions"].transform("sum").to_numpy(float)
        bounds = {c: totals.assign(_v=totals[c].to_numpy(float) / scale).pivot(
            index="channel", columns="model", values="_v").reindex(index=channels, columns=models) for c in lo_hi}
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(channels))
    for i, m in enumerate(models):
        heights = wide[m].fillna(0.0).to_numpy(float)
        yerr = None
        if has_ci:
            lo, hi = bounds[lo_hi[0]][m].to_numpy(float), bounds[lo_hi[1]][m].to_numpy(float)
            yerr = np.vstack([np.clip(heights - lo, 0, None), np.clip(hi - heights, 0, None)])
            yerr = np.nan_to_num(yerr)
        ax.bar(x + (i - (len(models) - 1) / 2) * width, heights, width, label=m, color=colour(i), yerr=yerr,
               error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"})
    if truth is not None:
        t = truth.set_index(truth["channel"].astype(str))[value].reindex(channels).to_numpy(float)
        ax.hlines(t, x - 0.42, x + 0.42, colors="black", linewidths=2.0, label="truth", zorder=3)
    ax.set_xticks(x)
    ax.set_xticklabels(channels, rotation=30, ha="right")
    ax.set_xlabel("Channel")
    ax.set_ylabel(_VALUE_LABELS[value])
    if value == "share":
        percent_axis(ax.yaxis)
    else:
        number_axis(ax.yaxis)
    what = "share of conversions" if value == "share" else f"attributed {value}"
    ax.set_title(f"Model comparison: {what} by channel" + (" (bars: interval)" if has_ci else ""))
    tidy(ax)
    legend_outside(ax, "Model")
    return ax


def plot_share_heatmap(table: pd.DataFrame, touchless: bool = False, ax=None):
    """Channel × model heatmap of the share of conversions, each cell written as a percent.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy attribution table; the shares are those of :func:`attribution.kpis.compare.compare_table`.
    touchless : bool
        Keep the touchless ``(none)`` channel.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    wide = compare_table(table, touchless=touchless)
    models = models_in_order(table)
    values = wide[[f"share_{m}" for m in models]].to_numpy(float)
    ax = new_axes(ax, (1.6 + 1.1 * len(models), 1.2 + 0.45 * len(wide)))
    image = ax.imshow(values, cmap="Blues", aspect="auto", vmin=0.0, vmax=max(float(values.max(initial=0)), 1e-9))
    high = 0.6 * float(values.max(initial=0))
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{v:.0%}", ha="center", va="center", fontsize=8, color="white" if v > high else "black")
    ax.set_xticks(np.arange(len(models)))
    ax.set_xticklabels(models, rotation=30, ha="right")
    ax.set_yticks(np.arange(len(wide)))
    ax.set_yticklabels(wide["channel"].tolist())
    ax.set_xlabel("Model")
    ax.set_ylabel("Channel")
    ax.set_title("Share of conversions: channel × model")
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    percent_axis(bar.ax.yaxis)
    bar.set_label("Share of conversions")
    return ax


_METRICS = {"roas": ("ROAS (revenue / spend)", 1.0), "roi": ("ROI ((revenue − spend) / spend)", 0.0),
            "cpa": ("CPA (spend per attributed conversion)", None)}


def plot_roi(table: pd.DataFrame, metric: str = "roas", models=None, model: str | None = None, ax=None):
    """Horizontal grouped bars of a return or cost ratio per channel, one bar per model.

    Ratios are recomputed from summed revenue, spend and conversions (never averaged over periods or
    campaigns). Channels without spend (and ``(none)``) are left out; a model giving a channel no conversion
    has no CPA bar there.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table with ``spend`` (a run with a spend table).
    metric : {"roas", "roi", "cpa"}
    models : str or list of str, optional
        The models to draw (default: all, in the table's order); ``model`` is the one-model shorthand.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {', '.join(_METRICS)}. Got {metric!r} instead.")
    if "spend" not in table.columns:
        raise ValueError("plot_roi needs a table with spend (run with a spend table).")
    chosen = [model] if model is not None else ([models] if isinstance(models, str) else models)
    everything = models_in_order(table)
    chosen = everything if chosen is None else [str(m) for m in chosen]
    unknown = [m for m in chosen if m not in everything]
    if unknown:
        raise ValueError(f"model(s) {', '.join(unknown)} not in the table; its models: {', '.join(everything)}.")
    totals = channel_totals(table[table["model"].astype(str).isin(chosen)])
    totals = totals[totals["channel"].astype(str) != NONE_CHANNEL]
    spent = totals.groupby("channel")["spend"].sum()
    channels = sorted(spent.index[spent > 0].astype(str))
    wide = totals.pivot(index="channel", columns="model", values=metric).reindex(index=channels, columns=chosen)
    if len(channels):  # best first (top of the chart): highest return, lowest cost, by the models' mean
        mean = wide.mean(axis=1).fillna(np.inf if metric == "cpa" else -np.inf)
        channels = list(mean.sort_values(ascending=metric == "cpa", kind="stable").index)[::-1]
        wide = wide.reindex(index=channels)
    ax = new_axes(ax, (9.5, 1.0 + 0.22 * max(len(channels), 1) * max(len(chosen), 2)))
    height = 0.8 / max(len(chosen), 1)
    y = np.arange(len(channels))
    for i, m in enumerate(chosen):
        ax.barh(y + ((len(chosen) - 1) / 2 - i) * height, wide[m].to_numpy(float), height, label=m,
                color=colour(everything.index(m)))
    label, reference = _METRICS[metric]
    if reference is not None:
        ax.axvline(reference, color="#555555", linewidth=1, linestyle="--")
    ax.set_yticks(y)
    ax.set_yticklabels(channels)
    ax.set_xlabel(label)
    ax.set_ylabel("Channel")
    if metric == "roi":
        percent_axis(ax.xaxis)
    else:
        number_axis(ax.xaxis)
    ax.set_title(f"{metric.upper()} by channel" + (f" ({chosen[0]})" if len(chosen) == 1 else " and model"))
    tidy(ax, "x")
    legend_outside(ax, "Model")
    return ax
