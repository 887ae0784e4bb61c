"""Views of a fitted Markov chain's transitions for charts: channel-level moves and the strongest edges.

A chain of order k has states that are windows of k channels (``a > b``); at order 2 and above there are too
many to read. :func:`channel_transitions` rewrites every transition as the channel-to-channel moves it stands
for, so any order gives one small channel × channel matrix: a move between windows ``W → W'`` is the move
``last(W) → last(W')``; a move out of ``(start)`` into the window ``a > b`` is the start ``(start) → a`` followed
by ``a → b``; a move into ``(conversion)`` or ``(null)`` leaves from the window's last channel. At order 1 this is
the matrix itself; at order k it is the first-order count matrix of the same journeys.
"""

from __future__ import annotations

import pandas as pd

from attribution.exceptions import ParameterError

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


def channel_transitions(matrix: pd.DataFrame, separator: str = " > ") -> pd.DataFrame:
    """Aggregate a transition matrix (:meth:`Markov.transition_matrix`) to moves between channels.

    Parameters
    ----------
    matrix : pandas.DataFrame
        ``from_state, to_state, count`` (``probability`` is recomputed).
    separator : str
        What joins the channels of a window state.

    Returns
    -------
    pandas.DataFrame
        ``from_state, to_state, count, probability`` with channel (and start / end) states, sorted by source
        then target; probability = count / all counts out of the source.
    """
    missing = [c for c in ("from_state", "to_state", "count") if c not in matrix.columns]
    if missing:
        raise ParameterError(f"A transition matrix needs from_state, to_state and count; {', '.join(missing)} "
                             "missing.")
    frm = matrix["from_state"].astype(str)
    to = matrix["to_state"].astype(str)
    count = matrix["count"].to_numpy(float)
    start = (frm == START).to_numpy()
    moves = [pd.DataFrame({"from_state": frm[~start].str.rsplit(separator, n=1).str[-1].to_numpy(),
                           "to_state": to[~start].str.rsplit(separator, n=1).str[-1].to_numpy(),
                           "count": count[~start]})]
    if start.any():  # (start) → "a > b": (start) → a, then a → b
        steps = to[start].str.split(separator, regex=False).explode()
        pos = steps.groupby(level=0).cumcount().to_numpy()
        prev = steps.groupby(level=0).shift(1).to_numpy(dtype=object)
        prev[pos == 0] = START
        counts = pd.Series(count[start], index=to[start].index).reindex(steps.index).to_numpy(float)
        moves.append(pd.DataFrame({"from_state": prev, "to_state": steps.to_numpy(dtype=object), "count": counts}))
    out = pd.concat(moves, ignore_index=True).groupby(["from_state", "to_state"], sort=False)["count"].sum()
    out = out.reset_index()
    rank = lambda s: s.map({START: 0, CONVERSION: 2, NULL: 3}).fillna(1)  # noqa: E731 (start, channels, ends)
    out = out.sort_values(["from_state", "to_state"], key=lambda s: rank(s) * 1e6 + _alpha(s), kind="stable",
                          ignore_index=True)
    out["probability"] = out["count"] / out.groupby("from_state")["count"].transform("sum")
    for c in ("from_state", "to_state"):
        out[c] = out[c].astype(object)
    return out


def _alpha(s: pd.Series) -> pd.Series:
    """The alphabetical rank of each value (ties equal), as a number for a sort key."""
    return s.rank(method="dense").astype(float)


def strongest_edges(matrix: pd.DataFrame, per_state: int = 2, min_probability: float = 0.0,
                    self_loops: bool = False) -> pd.DataFrame:
    """The strongest transitions: each source state's ``per_state`` most likely targets at or above
    ``min_probability`` (self-loops left out unless asked); the rows of ``matrix`` that are kept, same order.

    Moves into ``(conversion)`` are always kept, whatever their probability (a few percent is typical, and it
    is the edge a reader looks for); they do not count against ``per_state``.
    """
    if per_state < 1:
        raise ParameterError(f"per_state must be at least 1. Got {per_state!r} instead.")
    f = matrix if self_loops else matrix[matrix["from_state"] != matrix["to_state"]]
    f = f[f["probability"] > 0]
    converts = (f["to_state"] == CONVERSION).to_numpy(bool)
    others = f[~converts & (f["probability"] >= min_probability).to_numpy(bool)]
    rank = others.groupby("from_state")["probability"].rank(method="first", ascending=False)
    keep = others.index[(rank <= per_state).to_numpy(bool)].union(f.index[converts])
    return f.loc[f.index.isin(keep)]


__all__ = ["channel_transitions", "strongest_edges", "START", "CONVERSION", "NULL"]
