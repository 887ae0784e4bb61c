"""Plots for notebooks (DESIGN convention 6): each takes ``ax=None``, returns the axes, sets no global style.

matplotlib is imported inside the functions (extra ``plot``), so importing :mod:`attribution` never needs it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 4.5))
    return ax


def plot_model_comparison(table: pd.DataFrame, value: str = "share", truth: pd.DataFrame | None = None, ax=None):
    """Grouped bars: one group per channel, one bar per model (and the true share when ``truth`` is given).

    Parameters
    ----------
    table : pandas.DataFrame
        An attribution table (``model, channel`` and ``value``); a ``period`` column is summed over.
    value : str
        The column to show (``share``, ``conversions``, ``revenue``, ...). ``share`` is recomputed from summed
        conversions when periods are present.
    truth : pandas.DataFrame, optional
        ``channel, share`` of a ground truth (e.g. :func:`attribution.sim.datasets.sample_ground_truth`).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    if value == "share":
        sums = table.groupby(["model", "channel"], sort=False)["conversions"].sum().reset_index()
        sums["share"] = sums["conversions"] / sums.groupby("model")["conversions"].transform("sum")
    else:
        sums = table.groupby(["model", "channel"], sort=False)[value].sum().reset_index()
    wide = sums.pivot(index="channel", columns="model", values=value)[list(dict.fromkeys(table["model"]))]
    if truth is not None:
        wide["truth"] = truth.set_index("channel")["share"].reindex(wide.index)
    n_series = wide.shape[1]
    width = 0.8 / max(n_series, 1)
    x = np.arange(len(wide.index))
    for i, col in enumerate(wide.columns):
        ax.bar(x + (i - (n_series - 1) / 2) * width, wide[col].to_numpy(float), width, label=str(col),
               color="black" if col == "truth" else None)
    ax.set_xticks(x)
    ax.set_xticklabels([str(c) for c in wide.index], rotation=30, ha="right")
    ax.set_ylabel(value)
    ax.legend(fontsize="small", ncols=2)
    return ax


def plot_roi(table: pd.DataFrame, model: str | None = None, metric: str = "roas", ax=None):
    """Horizontal bars of a return ratio (``roas`` or ``roi``) per channel for one model, from summed columns.

    Ratios are recomputed from summed revenue and spend (never averaged across periods); channels without spend
    are left out.
    """
    ax = _axes(ax)
    model = model or str(table["model"].iloc[0])
    rows = table[table["model"] == model].groupby("channel")[["revenue", "spend"]].sum()
    rows = rows[rows["spend"] > 0]
    ratio = rows["revenue"] / rows["spend"]
    if metric == "roi":
        ratio = ratio - 1.0
    elif metric != "roas":
        raise ValueError(f"metric must be 'roas' or 'roi'. Got {metric!r} instead.")
    ratio = ratio.sort_values()
    ax.barh([str(c) for c in ratio.index], ratio.to_numpy(float))
    ax.axvline(1.0 if metric == "roas" else 0.0, color="grey", linewidth=1)
    ax.set_xlabel(f"{metric.upper()} ({model})")
    return ax


def plot_transition_graph(graph, ax=None, min_probability: float = 0.05):
    """Draw a fitted Markov chain's ``networkx.DiGraph`` (edges with probability ≥ ``min_probability``).

    Channel states sit on a circle, the start state on the left, conversion and null on the right; edge width
    grows with the transition probability.
    """
    import networkx as nx

    ax = _axes(ax)
    edges = [(u, v) for u, v, d in graph.edges(data=True) if d.get("probability", 1.0) >= min_probability]
    sub = graph.edge_subgraph(edges).copy() if edges else graph.copy()
    ends = {"(start)": (-2.2, 0.0), "(conversion)": (2.2, 0.6), "(null)": (2.2, -0.6)}
    inner = sorted((n for n in sub.nodes if str(n) not in ends), key=str)
    pos = {n: ends[str(n)] for n in sub.nodes if str(n) in ends}
    if inner:
        pos.update(nx.circular_layout(inner))
    widths = [0.5 + 4 * sub.edges[e].get("probability", 0.0) for e in sub.edges]
    nx.draw_networkx(sub, pos=pos, ax=ax, node_size=900, font_size=7, width=widths, arrowsize=8,
                     node_color="#cfe2f3", edge_color="#555555", connectionstyle="arc3,rad=0.08")
    ax.set_axis_off()
    return ax
