"""Measure attribution results against a simulated ground truth (:mod:`attribution.sim.simulate`).

Models credit every conversion, including those no channel caused (the simulator's ``(baseline)``); the truth
credits each channel with the conversions it caused (its removal effect). The two are compared as **shares**:
a model's credit per channel divided by its credit over real channels (``(none)``, touchless conversions, left
out), against the channel's share of the truly incremental conversions (or revenue). A model that splits
credit in proportion to the true incremental effects scores a zero error and a rank correlation of 1.

**Shares.** "Share" means a channel's credit divided by the model's total credit to real channels: the
``(none)`` row (touchless conversions) and a model's ``(baseline)`` row (conversions it says no channel caused)
are left out of the model's total, exactly as the truth's ``(baseline)`` row is left out of the true total.

**Levels.** Shares hide how much a model says marketing caused. The level error compares counts:
Σ_c |credit_c − true_c| / Σ_c true_c over real channels. A model that credits every conversion to some channel
overstates it by the baseline's conversions; a model with a ``(baseline)`` row (``hazard``) or a calibrated
one need not.

:func:`compare_to_truth` gives one row per model, :func:`channel_errors` one row per model × channel and
:func:`scorecard` the scorecard of ``attribution evaluate``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from attribution.exceptions import ParameterError
from attribution.kernels.constants import BASELINE_CHANNEL, NONE_CHANNEL

__all__ = ["compare_to_truth", "channel_errors", "scorecard", "SCORECARD_COLUMNS", "zero_effect_channels"]

EXCLUDED = (NONE_CHANNEL, BASELINE_CHANNEL)


def _truth_frame(truth) -> pd.DataFrame:
    table = getattr(truth, "table", truth)  # a GroundTruth or its (possibly loaded) frame
    if not isinstance(table, pd.DataFrame) or "channel" not in table.columns:
        raise ParameterError("The 'truth' argument must be a GroundTruth or a frame with a 'channel' column "
                             f"(such as attribution.sim.datasets.sample_ground_truth()). Got {type(truth).__name__} instead.")
    return table[~table["channel"].isin(EXCLUDED)]


def channel_errors(table: pd.DataFrame, truth, basis: str = "conversions") -> pd.DataFrame:
    """Per model × channel: the model's share against the true incremental share.

    Parameters
    ----------
    table : pandas.DataFrame
        An attribution table (``model, channel`` and the ``basis`` column; extra columns such as a period are
        summed over).
    truth : GroundTruth or pandas.DataFrame
        The simulation's truth (``channel`` and ``basis`` columns; ``(baseline)`` rows are ignored).
    basis : {"conversions", "revenue"}

    Returns
    -------
    pandas.DataFrame
        ``model, channel, credit, true_credit, share, true_share, error`` (share − true share) and ``ratio``
        (credit / true credit, null where the true credit is 0). Models in the table's order, channels sorted.
    """
    if basis not in ("conversions", "revenue"):
        raise ParameterError(f"The 'basis' parameter must be 'conversions' or 'revenue'. Got {basis!r} instead.")
    for col in ("model", "channel", basis):
        if col not in table.columns:
            raise ParameterError(f"The attribution table must have a '{col}' column; it has {', '.join(table.columns)}.")
    true = _truth_frame(truth).groupby("channel", sort=True)[basis].sum().astype(float)
    credit = table[~table["channel"].isin(EXCLUDED)]
    models = list(dict.fromkeys(table["model"]))
    channels = sorted(set(true.index) | set(credit["channel"]))
    wide = (credit.groupby(["model", "channel"], sort=False)[basis].sum().unstack("channel")
            .reindex(index=models, columns=channels).fillna(0.0).astype(float))
    true = true.reindex(channels).fillna(0.0)
    totals = wide.sum(axis=1).to_numpy()[:, None]
    true_total = float(true.sum())
    share = np.divide(wide.to_numpy(), totals, out=np.full(wide.shape, np.nan), where=totals > 0)
    true_share = true.to_numpy() / true_total if true_total > 0 else np.full(len(channels), np.nan)
    n_m, n_c = len(models), len(channels)
    t = np.tile(true.to_numpy(), n_m)
    out = pd.DataFrame({
        "model": np.repeat(np.array(models, dtype=object), n_c),
        "channel": np.tile(np.array(channels, dtype=object), n_m),
        "credit": wide.to_numpy().ravel(),
        "true_credit": t,
        "share": share.ravel(),
        "true_share": np.tile(true_share, n_m),
    })
    out["error"] = out["share"] - out["true_share"]
    out["ratio"] = np.divide(out["credit"].to_numpy(), t, out=np.full(t.shape, np.nan), where=t > 0)
    return out


def compare_to_truth(table: pd.DataFrame, truth, basis: str = "conversions") -> pd.DataFrame:
    """Score every model of an attribution table against the ground truth.

    Parameters
    ----------
    table, truth, basis
        As in :func:`channel_errors`.

    Returns
    -------
    pandas.DataFrame
        One row per model (table order): ``mae`` (mean absolute share error over channels), ``max_error``
        (largest absolute share error) and ``worst_channel`` (where it occurs), ``overcredited`` (the channel
        whose share most exceeds its true share), ``spearman`` (rank correlation between the model's credit and
        the true credit over channels; null when either is constant).

    References
    ----------
    .. [1] Gordon, Zettelmeyer, Bhargava & Chapsky, "A comparison of approaches to advertising measurement",
       Marketing Science 38(2), 2019 (observational estimates against experimental truth).
    """
    errors = channel_errors(table, truth, basis)
    rows = []
    for model, g in errors.groupby("model", sort=False):
        err = g["error"].to_numpy()
        absolute = np.abs(err)
        finite = np.isfinite(absolute)
        if finite.any():
            i = int(np.nanargmax(absolute))
            j = int(np.nanargmax(err))
            worst, over = g["channel"].iloc[i], g["channel"].iloc[j]
            mae, mx = float(np.nanmean(absolute)), float(absolute[i])
        else:
            worst = over = None
            mae = mx = np.nan
        x, y = g["credit"].to_numpy(), g["true_credit"].to_numpy()
        rho = float(stats.spearmanr(x, y).statistic) if len(x) > 1 and np.ptp(x) > 0 and np.ptp(y) > 0 else np.nan
        rows.append({"model": model, "mae": mae, "max_error": mx, "worst_channel": worst, "overcredited": over,
                     "spearman": rho})
    out = pd.DataFrame(rows, columns=["model", "mae", "max_error", "worst_channel", "overcredited", "spearman"])
    for c in ("model", "worst_channel", "overcredited"):
        out[c] = out[c].astype(object)
    return out


SCORECARD_COLUMNS = ("model", "tvd", "mae_points", "max_error_points", "worst_channel", "spearman",
                     "zero_effect_share", "level_error", "credited", "true_incremental")


def zero_effect_channels(truth) -> list[str]:
    """Channels without any causal effect: ``effect_per_touch == 0`` when the truth has that column (a simulated
    truth), else a true credit of 0."""
    t = _truth_frame(truth)
    zero = t["effect_per_touch"] == 0 if "effect_per_touch" in t.columns else t["conversions"] == 0
    return sorted(t.loc[zero.to_numpy(), "channel"].astype(str))


def scorecard(table: pd.DataFrame, truth, basis: str = "conversions") -> pd.DataFrame:
    """The scorecard of every model against the truth: shares and levels.

    Parameters
    ----------
    table, truth, basis
        As in :func:`channel_errors`.

    Returns
    -------
    pandas.DataFrame
        One row per model (table order), columns :data:`SCORECARD_COLUMNS`:

        - ``tvd``: total variation distance ½ Σ_c |share_c − true share_c| (0 = identical, 1 = disjoint);
        - ``mae_points``: mean absolute share error over channels, in percentage points;
        - ``max_error_points`` and ``worst_channel``: the largest absolute share error and its channel;
        - ``spearman``: rank correlation of credit and true credit over channels (null if either is constant);
        - ``zero_effect_share``: share of the credit given to channels that cause nothing
          (:func:`zero_effect_channels`);
        - ``level_error``: Σ_c |credit_c − true_c| / Σ_c true_c over real channels (counts, not shares);
        - ``credited``, ``true_incremental``: Σ_c credit_c and Σ_c true_c over real channels.

    References
    ----------
    .. [1] Gordon, Zettelmeyer, Bhargava & Chapsky, "A comparison of approaches to advertising measurement",
       Marketing Science 38(2), 2019.
    """
    errors = channel_errors(table, truth, basis)
    base = compare_to_truth(table, truth, basis).set_index("model")
    zero = set(zero_effect_channels(truth))
    rows = []
    for model, g in errors.groupby("model", sort=False):
        credit, true = g["credit"].to_numpy(), g["true_credit"].to_numpy()
        err = np.abs(g["error"].to_numpy())
        is_zero = g["channel"].isin(zero).to_numpy()
        true_total = float(true.sum())
        rows.append({
            "model": model,
            "tvd": 0.5 * float(np.nansum(err)) if np.isfinite(err).any() else np.nan,
            "mae_points": 100 * base.at[model, "mae"],
            "max_error_points": 100 * base.at[model, "max_error"],
            "worst_channel": base.at[model, "worst_channel"],
            "spearman": base.at[model, "spearman"],
            "zero_effect_share": float(g["share"].to_numpy()[is_zero].sum()) if is_zero.any() else 0.0,
            "level_error": float(np.abs(credit - true).sum()) / true_total if true_total > 0 else np.nan,
            "credited": float(credit.sum()),
            "true_incremental": true_total,
        })
    out = pd.DataFrame(rows, columns=list(SCORECARD_COLUMNS))
    for c in ("model", "worst_channel"):
        out[c] = out[c].astype(object)
    return out
