"""Model comparison: the shares each model gives each channel, side by side (``attribution compare``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.journeys.journeys import NONE_CHANNEL


def share_table(table: pd.DataFrame, touchless: bool = False) -> pd.DataFrame:
    """Channels (rows) × models (columns, in the table's order) of each channel's share of a model's credit.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy run table (``model, channel, conversions, ...``; period and campaign rows are summed first).
    touchless : bool
        Keep the ``(none)`` row of touchless conversions in the shares (default: left out of numerator and
        denominator, so each model's shares of real channels sum to 1).
    """
    credit = table.groupby(["model", "channel"], sort=False)["conversions"].sum().reset_index()
    if not touchless:
        credit = credit[credit["channel"] != NONE_CHANNEL]
    totals = credit.groupby("model", sort=False)["conversions"].transform("sum")
    credit = credit.assign(share=np.where(totals > 0, credit["conversions"] / totals.where(totals > 0, 1), np.nan))
    models = list(dict.fromkeys(table["model"]))
    wide = credit.pivot(index="channel", columns="model", values="share").reindex(columns=models)
    wide.columns.name = None
    return wide.sort_index().fillna(0.0)
