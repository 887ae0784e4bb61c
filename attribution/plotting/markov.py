"""Charts of a fitted Markov model: removal effects, the transition matrix as a heatmap, the strongest edges."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.kpis.transitions import CONVERSION, NULL, START, channel_transitions, strongest_edges

from attribution.plotting._common import BAR, new_axes, percent_axis, pick_model, tidy


def plot_removal_effects(effects: pd.DataFrame, model: str | None = None, ax=None):
    """Horizontal bars of each channel's removal effect (the share of the conversion probability lost when the
    channel is taken out of the chain).

    Parameters
    ----------
    effects : pandas.DataFrame
        ``channel, removal_effect``: a Markov model's ``removal_effects_``, or a tidy table with a
        ``removal_effect`` column (then one Markov model's rows; ``model`` picks it when there are several).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    if "removal_effect" not in effects.columns:
        raise ValueError("plot_removal_effects needs a removal_effect column (a Markov model's removal_effects_ "
                         "or a table with a Markov model).")
    rows = effects[effects["removal_effect"].notna()]
    label = ""
    if "model" in rows.columns:
        label = pick_model(rows, model, "plot_removal_effects")
        rows = rows[rows["model"].astype(str) == label]
    rows = rows.drop_duplicates("channel").sort_values("removal_effect", kind="stable")
    ax = new_axes(ax, (8.0, 1.0 + 0.38 * max(len(rows), 1)))
    bars = ax.barh(rows["channel"].astype(str).tolist(), rows["removal_effect"].to_numpy(float), color=BAR)
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in rows["removal_effect"]], padding=3, fontsize=8)
    ax.set_xlabel("Removal effect (conversion probability lost without the channel)")
    ax.set_ylabel("Channel")
    percent_axis(ax.xaxis)
    ax.margins(x=0.12)
    ax.set_title("Markov removal effects" + (f" ({label})" if label else ""))
    tidy(ax, "x")
    return ax


def _as_matrix(transitions) -> pd.DataFrame:
    """A transition frame from a frame or a fitted chain's ``networkx.DiGraph``."""
    if isinstance(transitions, pd.DataFrame):
        return transitions
    edges = list(transitions.edges(data=True))
    return pd.DataFrame({"from_state": pd.Series([u for u, _, _ in edges], dtype=object),
                         "to_state": pd.Series([v for _, v, _ in edges], dtype=object),
                         "count": [d.get("count", np.nan) for _, _, d in edges],
                         "probability": [d.get("probability", np.nan) for _, _, d in edges]})


def _channel_level(matrix: pd.DataFrame, channels: bool | None, separator: str) -> tuple[pd.DataFrame, bool]:
    """The matrix aggregated to channel moves when asked, or by default when its states are windows."""
    if channels is None:
        channels = bool(matrix["from_state"].astype(str).str.contains(separator, regex=False).any())
    return (channel_transitions(matrix, separator) if channels else matrix), channels


def _state_order(states) -> list[str]:
    states = set(map(str, states))
    middle = sorted(states - {START, CONVERSION, NULL})
    return [s for s in (START,) if s in states] + middle + [s for s in (CONVERSION, NULL) if s in states]


def _edge_groups(graph, into: dict) -> list:
    """The graph's edges split by colour: into each end state in its colour, the rest grey."""
    groups = [([e for e in graph.edges if e[1] == end], c) for end, c in into.items()]
    groups.append(([e for e in graph.edges if e[1] not in into], "#6b7b8c"))
    return [(edges, c) for edges, c in groups if edges]


def plot_transition_heatmap(transitions, channels: bool | None = None, separator: str = " > ", ax=None):
    """The transition matrix as a heatmap: rows are where a journey is, columns where it goes next, cells the
    probability (written as a percent).

    Parameters
    ----------
    transitions : pandas.DataFrame or networkx.DiGraph
        :meth:`Markov.transition_matrix` (``from_state, to_state, count, probability``) or
        :meth:`Markov.transition_graph`.
    channels : bool, optional
        Aggregate window states (order ≥ 2) to channel moves (:func:`attribution.kpis.transitions.channel_transitions`);
        default: when the states are windows.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    matrix, aggregated = _channel_level(_as_matrix(transitions), channels, separator)
    sources = [s for s in _state_order(matrix["from_state"]) if s not in (CONVERSION, NULL)]
    targets = [s for s in _state_order(matrix["to_state"]) if s != START]
    grid = matrix.pivot_table(index="from_state", columns="to_state", values="probability", aggfunc="sum")
    values = grid.reindex(index=sources, columns=targets).fillna(0.0).to_numpy(float)
    ax = new_axes(ax, (1.5 + 0.62 * len(targets), 1.2 + 0.45 * len(sources)))
    image = ax.imshow(values, cmap="Blues", aspect="auto", vmin=0.0, vmax=max(float(values.max(initial=0)), 1e-9))
    if values.size <= 400:
        high = 0.6 * float(values.max(initial=0))
        for (r, c), v in np.ndenumerate(values):
            if v > 0:
                ax.text(c, r, f"{v:.0%}", ha="center", va="center", fontsize=7,
                        color="white" if v > high else "black")
    ax.set_xticks(np.arange(len(targets)))
    ax.set_xticklabels(targets, rotation=40, ha="right")
    ax.set_yticks(np.arange(len(sources)))
    ax.set_yticklabels(sources)
    ax.set_xlabel("Next state")
    ax.set_ylabel("Current state")
    ax.set_title("Transition probabilities" + (" (aggregated to channels)" if aggregated else ""))
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    percent_axis(bar.ax.yaxis)
    bar.set_label("Probability")
    return ax


_NODE_COLOURS = {START: "#e0e0e0", CONVERSION: "#b7e4c7", NULL: "#f4c7c3"}


def plot_transition_graph(transitions, ax=None, per_state: int = 1, min_probability: float = 0.05,
                          channels: bool | None = None, separator: str = " > "):
    """The strongest transitions of a fitted chain as a graph: ``(start)`` on the left, conversion and null on
    the right, channels on a ring between; each node is a labelled box (with its probability of converting
    next), each other edge shows its probability.

    Only each state's ``per_state`` most likely moves at or above ``min_probability`` are drawn (self-loops
    left out), plus every move into conversion; window states of order ≥ 2 are
    aggregated to channels by default, so the graph stays readable at any order.

    Parameters
    ----------
    transitions : pandas.DataFrame or networkx.DiGraph
        :meth:`Markov.transition_matrix` or :meth:`Markov.transition_graph`.
    per_state : int
    min_probability : float
    channels : bool, optional
        Aggregate to channel moves (default: when the states are windows).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import networkx as nx

    matrix, aggregated = _channel_level(_as_matrix(transitions), channels, separator)
    edges = strongest_edges(matrix, per_state=per_state, min_probability=min_probability)
    nodes = _state_order(set(matrix["from_state"]) | set(matrix["to_state"]))
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_weighted_edges_from(edges[["from_state", "to_state", "probability"]].itertuples(index=False),
                                  weight="probability")
    ends = {START: (-1.9, 0.0), CONVERSION: (1.9, 0.55), NULL: (1.9, -0.55)}
    inner = [n for n in nodes if n not in ends]
    pos = {n: ends[n] for n in nodes if n in ends}
    if inner:
        ring = nx.circular_layout(inner, scale=1.0)
        pos.update({n: (1.05 * x, 0.95 * y) for n, (x, y) in ring.items()})
    ax = new_axes(ax, (10.0, 6.5))
    into = {CONVERSION: "#2e8b57", NULL: "#c0392b"}
    for edge_list, colour_ in _edge_groups(graph, into):
        width = [0.6 + 5.0 * graph.edges[e]["probability"] for e in edge_list]
        nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=edge_list, width=width, edge_color=colour_, alpha=0.8,
                               arrows=True, arrowstyle="-|>", arrowsize=12, connectionstyle="arc3,rad=0.12",
                               node_size=2600, min_source_margin=8, min_target_margin=14)
    nx.draw_networkx_edge_labels(graph, pos, ax=ax, edge_labels={e: f"{graph.edges[e]['probability']:.0%}"
                                                                 for e in graph.edges if e[1] != CONVERSION},
                                 font_size=7, label_pos=0.5, connectionstyle="arc3,rad=0.12",
                                 bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    converts = {u: p for u, v, p in graph.edges(data="probability") if v == CONVERSION}
    for n, (x, y) in pos.items():
        text = n if n not in converts else f"{n}\n{converts[n]:.1%} convert"
        ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=5, linespacing=1.3,
                bbox={"boxstyle": "round,pad=0.45", "fc": _NODE_COLOURS.get(n, "#cfe2f3"), "ec": "#34495e",
                      "lw": 1.0})
    ax.set_xlim(-2.35, 2.35)
    ax.set_ylim(-1.3, 1.3)
    ax.set_axis_off()
    strongest = "strongest move" if per_state == 1 else f"{per_state} strongest moves"
    shown = (f"each state's {strongest} ≥ {min_probability:.0%}, plus every move into conversion (green;\n"
             "its probability is written in the node)")
    ax.set_title("Strongest transitions" + (" (aggregated to channels)" if aggregated else "") + f"\n{shown}",
                 fontsize=10)
    return ax
