"""Comparing models: one wide table of shares, ranks and spread, and channel totals of a tidy table.

The *share* compared here is the one every chart of :mod:`attribution.plotting` shows: a channel's conversions
over the model's conversions on real channels, so touchless conversions (``(none)``, which no model can move)
do not dilute the channels and the shares of every model add up to 1 over the same channels. A ground truth's
incremental shares (:func:`attribution.sim.datasets.sample_ground_truth`) are on that basis too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.exceptions import ParameterError, option
from attribution.journeys.journeys import NONE_CHANNEL
from attribution.kpis.report import ratio

#: Columns summed over periods / campaigns; every other numeric column is recomputed or dropped.
ADDITIVE = ("conversions", "revenue", "spend", "media_spend", "leads", "journeys", "converting_journeys")
INTERVALS = ("conversions_lo", "conversions_hi", "revenue_lo", "revenue_hi")


def models_in_order(table: pd.DataFrame) -> list[str]:
    """The table's model labels in the order they first appear (the order the run listed them)."""
    return list(dict.fromkeys(table["model"].astype(str)))


def channel_totals(table: pd.DataFrame, touchless: bool = False, by_period: bool = False) -> pd.DataFrame:
    """One row per model × channel (× period): additive columns summed over periods and campaigns, ratios
    recomputed from the sums (never averaged).

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy result (``model, channel`` [, ``campaign``] [, ``period``], ``conversions``, ...).
    touchless : bool
        Keep the ``(none)`` row of touchless conversions (and count it in the share).
    by_period : bool
        Keep the table's ``period`` column: one row per model × channel × period, shares within the period.

    Returns
    -------
    pandas.DataFrame
        ``model, channel`` [, ``period``] then the additive columns present, ``share`` (conversions / the model's
        conversions over the rows kept [in the period]), the interval columns when each key has one row (they
        do not add up over periods or campaigns), ``removal_effect`` when present, and ``roas, roi, cpa`` when
        there is spend. Models in the table's order, channels sorted.
    """
    missing = [c for c in ("model", "channel", "conversions") if c not in table.columns]
    if missing:
        raise ParameterError(f"An attribution table needs the columns model, channel, conversions; "
                             f"{', '.join(missing)} missing.")
    if by_period and "period" not in table.columns:
        raise ParameterError(f"This needs a table cut by period (run with {option('period', 'day')}, week or month).")
    rows = table if touchless else table[table["channel"].astype(str) != NONE_CHANNEL]
    keys = ["model", "channel"] + (["period"] if by_period else [])
    cut = [c for c in ("period", "campaign") if c in rows.columns and c not in keys]
    keep = [c for c in ADDITIVE if c in rows.columns]
    if cut or rows.duplicated(keys).any():  # several rows per key: sum them (intervals do not add up)
        out = rows.groupby(keys, sort=False)[keep].sum(min_count=1).reset_index()
    else:
        out = rows[keys + keep + [c for c in INTERVALS if c in rows.columns]].copy()
    if "removal_effect" in rows.columns:
        effect = rows.drop_duplicates(["model", "channel"])[["model", "channel", "removal_effect"]]
        out = out.merge(effect, on=["model", "channel"], how="left")
    order = {m: i for i, m in enumerate(models_in_order(table))}
    out["_m"] = out["model"].astype(str).map(order)
    out = out.sort_values(["_m"] + keys[1:], kind="stable", ignore_index=True).drop(columns="_m")
    total = out.groupby(keys[:1] + keys[2:], sort=False)["conversions"].transform("sum")
    out.insert(out.columns.get_loc("conversions") + 1, "share", ratio(out["conversions"], total))
    if "spend" in out.columns:
        out["roas"] = ratio(out["revenue"], out["spend"])
        out["roi"] = ratio(out["revenue"] - out["spend"], out["spend"])
        out["cpa"] = ratio(out["spend"], out["conversions"])
    return out


def compare_table(table: pd.DataFrame, touchless: bool = False) -> pd.DataFrame:
    """Shares per model side by side, each channel's rank under each model, and the spread between models.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy attribution table with one or more models (periods and campaigns are summed over).
    touchless : bool
        Keep the touchless ``(none)`` row; by default it is left out and shares are over the real channels.

    Returns
    -------
    pandas.DataFrame
        ``channel``, ``share_<model>`` per model (in the table's model order), ``rank_<model>`` per model (1 =
        the largest share; equal shares share the smaller rank), ``spread`` (largest − smallest share of the
        channel across models). Rows by decreasing mean share, then channel. A channel a model gives no row
        has share 0 under it.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model": ["a", "a", "b", "b"], "channel": ["x", "y", "x", "y"],
    ...                   "conversions": [3.0, 1.0, 1.0, 1.0]})
    >>> compare_table(t)
      channel  share_a  share_b  rank_a  rank_b  spread
    0       x     0.75      0.5       1       1    0.25
    1       y     0.25      0.5       2       1    0.25
    """
    totals = channel_totals(table, touchless=touchless)
    models = models_in_order(table)
    wide = totals.pivot(index="channel", columns="model", values="share").reindex(columns=models).fillna(0.0)
    shares = wide.to_numpy(float)
    out = pd.DataFrame({"channel": pd.Series(wide.index.astype(object), dtype=object)})
    for i, m in enumerate(models):
        out[f"share_{m}"] = shares[:, i]
    for i, m in enumerate(models):
        out[f"rank_{m}"] = pd.Series(shares[:, i]).rank(method="min", ascending=False).astype(np.int64)
    out["spread"] = shares.max(axis=1) - shares.min(axis=1) if len(models) else np.zeros(len(out))
    mean = shares.mean(axis=1) if len(models) else np.zeros(len(out))
    order = np.lexsort((out["channel"].astype(str).to_numpy(), -mean))
    return out.iloc[order].reset_index(drop=True)
