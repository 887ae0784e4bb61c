"""The BI fact table (``--detail``): one row per conversion × touch × model, long and additive.

Columns, in this order:

====================== =================================================================================
``conversion_id``      the event log's ``conversion_id`` when it has one, else 1, 2, ... in (user, time) order
``user_id``            the user
``conversion_ts``      conversion timestamp (UTC); ``conversion_date`` its UTC date
``touch_ts``           touch timestamp (UTC); ``touch_date`` its UTC date (null for a touchless conversion)
``position``           1-based position of the touch in its journey (0 for a touchless conversion)
``path_length``        touches in the journey (0 for a touchless conversion)
``channel``            the touch's channel (``(none)`` for a touchless conversion)
``campaign``           the touch's campaign (null when the log has none)
``model``              the model spec as written
``weight``             the model's weight of the touch; they sum to 1 per conversion and model
``attributed_conversions``, ``attributed_revenue``   weight × the conversion's count and revenue
====================== =================================================================================

Summing ``attributed_conversions`` / ``attributed_revenue`` per model and channel gives the models' credit
exactly; grouping by ``conversion_date`` (or ``touch_date``) gives any period a BI tool wants. Only converting
journeys appear. Rows are ordered by model (in the order given), conversion, position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import NotFittedError, ParameterError, option
from attribution.journeys.journeys import BASELINE_CHANNEL, NONE_CHANNEL, Journeys
from attribution.kpis.report import model_spec, touch_weights_of
from attribution.io.periods import days_to_dates, epoch_days

DETAIL_COLUMNS = [
    "conversion_id", "user_id", "conversion_ts", "conversion_date", "touch_ts", "touch_date", "position",
    "path_length", "channel", "campaign", "model", "weight", "attributed_conversions", "attributed_revenue",
]


def _timestamps(ns: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    values = pd.to_datetime(np.asarray(ns, np.int64), unit="ns", utc=True)
    series = pd.Series(values)
    if missing is not None and missing.any():
        series[missing] = pd.NaT
    return series


def _dates(ns: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    dates = days_to_dates(epoch_days(ns))
    if missing is not None and missing.any():
        dates[missing] = None
    return dates


def _by_user_and_time(journeys: Journeys, rows: np.ndarray) -> np.ndarray:
    """Journeys ``rows`` ordered by user id, then conversion time (journeys themselves come in hash order)."""
    if len(rows) < 2:
        return rows
    keys = pa.table({"user": journeys.user_ids.take(pa.array(journeys.user[rows])), "end": journeys.end_time[rows]})
    perm = pc.sort_indices(keys, sort_keys=[("user", "ascending"), ("end", "ascending")]).to_numpy()
    return rows[perm]


def _has_baseline(model) -> bool:
    """Whether a model credits a ``(baseline)`` row (journey-local models reach partitions unfitted: they do not)."""
    try:
        fitted = model.attribution_
    except NotFittedError:
        return False
    return BASELINE_CHANNEL in set(fitted["channel"].astype(str))


def _baseline_detail(frame: pd.DataFrame, w, journeys: Journeys, conv_j, starts, lengths) -> pd.DataFrame:
    """One ``(baseline)`` row per converting journey with touches, for a model with a ``(baseline)`` row: what its
    touch weights leave (1 − Σ weights), so that the fact table still adds up to the model's totals."""
    touched = lengths > 0
    rest = 1.0 - np.bincount(journeys.touch_journey, w, minlength=journeys.n_journeys)[conv_j[touched]]
    rows = frame.iloc[starts[:-1][touched]].copy()
    rows["touch_ts"] = pd.Series(pd.NaT, index=rows.index, dtype=rows["touch_ts"].dtype)
    rows["touch_date"] = pd.Series(pd.NaT, index=rows.index, dtype=rows["touch_date"].dtype)
    rows["position"] = np.int64(0)
    rows["channel"] = BASELINE_CHANNEL
    rows["campaign"] = None
    rows["weight"] = rest
    conv, rev = journeys.conversions[conv_j[touched]], journeys.revenue[conv_j[touched]]
    rows["attributed_conversions"] = rest * conv
    rows["attributed_revenue"] = rest * rev
    return rows


def detail_frame(models: Sequence, journeys: Journeys, events=None, per_model=None) -> pd.DataFrame:
    """The conversion × touch × model fact table of fitted ``models`` (see the module docstring).

    Parameters
    ----------
    models : sequence of fitted models with per-touch weights
    journeys : Journeys
        Built from an event log (a path table has no users or times).
    events : Events, optional
        The validated log; supplies ``conversion_id`` when it has that column.
    per_model : sequence of Journeys, optional
        Each model's own journeys, aligned with ``models`` (a model with its own lookback); each model's rows
        are its touches in them. Default ``journeys`` for every model.

    Raises
    ------
    ParameterError
        For path-table journeys, or a model without per-touch weights.
    """
    if not journeys.has_times or journeys.user is None:
        raise ParameterError(f"{option('detail')} needs an event log (a path table has no users, touches or dates).")
    if per_model is not None and any(j is not journeys for j in per_model):
        parts = [detail_frame([m], j, events) for m, j in zip(models, per_model)]  # model order kept
        return pd.concat(parts, ignore_index=True)
    conv_j = _by_user_and_time(journeys, np.flatnonzero(journeys.conversions > 0))
    lengths = journeys.lengths[conv_j]
    # one row per touch of a converting journey, plus one per touchless conversion
    rows = _touch_rows(journeys, conv_j, lengths)
    base = _base_frame(journeys, events, rows)
    frames = []
    for m in models:
        frames.extend(_model_rows(m, base, journeys, rows))
    if not frames:
        return base.assign(model=pd.Series(dtype=object), weight=pd.Series(dtype=float),
                           attributed_conversions=pd.Series(dtype=float),
                           attributed_revenue=pd.Series(dtype=float))[DETAIL_COLUMNS]
    out = pd.concat(frames, ignore_index=True)[DETAIL_COLUMNS]
    for c in ("channel", "campaign", "model"):
        out[c] = out[c].astype(object)
    return out


@dataclass
class _TouchRows:
    """The fact table's rows before any model: one per touch of a converting journey, one per touchless
    conversion, converting journeys in (user, time) order.

    Attributes
    ----------
    conv_j : converting journeys, in row order; lengths : their touch counts
    starts : first row of each converting journey (length ``len(conv_j) + 1``)
    row_j : each row's journey; pos : its 0-based position in the journey
    touch : each row's touch index (0, unused, for a touchless row); no_touch : whether the row is touchless
    """

    conv_j: np.ndarray
    lengths: np.ndarray
    starts: np.ndarray
    row_j: np.ndarray
    pos: np.ndarray
    touch: np.ndarray
    no_touch: np.ndarray


def _touch_rows(journeys: Journeys, conv_j: np.ndarray, lengths: np.ndarray) -> _TouchRows:
    """The rows of the converting journeys ``conv_j`` (touch counts ``lengths``), vectorised."""
    n_rows = np.maximum(lengths, 1)
    row_j = np.repeat(conv_j, n_rows)
    starts = np.zeros(len(conv_j) + 1, np.int64)
    np.cumsum(n_rows, out=starts[1:])
    pos = np.arange(starts[-1], dtype=np.int64) - np.repeat(starts[:-1], n_rows)
    has_touch = np.repeat(lengths > 0, n_rows)
    touch = np.where(has_touch, journeys.offsets[:-1][row_j] + pos, 0)
    touch = np.minimum(touch, max(journeys.n_touches - 1, 0))
    return _TouchRows(conv_j, lengths, starts, row_j, pos, touch, ~has_touch)


def _conversion_ids(journeys: Journeys, events, conv_j: np.ndarray) -> np.ndarray:
    """The log's ``conversion_id`` of each converting journey when it has one, else 1, 2, ... in row order."""
    if events is not None and events.has_column("conversion_id") and journeys.conversion_row is not None:
        ids = events.table["conversion_id"].take(pa.array(journeys.conversion_row[conv_j]))
        return np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)
    return np.arange(1, len(conv_j) + 1, dtype=np.int64)


def _campaigns(journeys: Journeys, rows: _TouchRows) -> np.ndarray:
    """Each row's campaign name (None for a touchless row, a touch without campaign, or a log without them)."""
    if journeys.touch_campaign is not None and journeys.campaign_names is not None and journeys.n_touches:
        cnames = np.r_[np.asarray(journeys.campaign_names, dtype=object), np.array([None], dtype=object)]
        camp_code = journeys.touch_campaign[rows.touch]
        camp_code = np.where(rows.no_touch | (camp_code < 0), len(cnames) - 1, camp_code)
        return cnames[camp_code]
    return np.full(len(rows.row_j), None, dtype=object)


def _base_frame(journeys: Journeys, events, rows: _TouchRows) -> pd.DataFrame:
    """The model-independent columns (``conversion_id`` to ``campaign``) of every row."""
    n, touch, no_touch, row_j = len(rows.row_j), rows.touch, rows.no_touch, rows.row_j
    conv_ids = _conversion_ids(journeys, events, rows.conv_j)
    conv_index = np.repeat(np.arange(len(rows.conv_j)), np.maximum(rows.lengths, 1))
    users = journeys.user_ids.take(pa.array(journeys.user[row_j])).to_pandas()
    end = journeys.end_time[row_j]
    tts = journeys.touch_time[touch] if journeys.n_touches else np.zeros(n, np.int64)
    names = np.r_[np.asarray(journeys.channel_names, dtype=object), np.array([NONE_CHANNEL], dtype=object)]
    ch_code = np.where(no_touch, len(names) - 1, journeys.touch_channel[touch] if journeys.n_touches else 0)
    return pd.DataFrame({
        "conversion_id": conv_ids[conv_index],
        "user_id": users,
        "conversion_ts": _timestamps(end),
        "conversion_date": _dates(end),
        "touch_ts": _timestamps(tts, no_touch),
        "touch_date": _dates(tts, no_touch),
        "position": np.where(no_touch, 0, rows.pos + 1).astype(np.int64),
        "path_length": journeys.lengths[row_j].astype(np.int64),
        "channel": names[ch_code],
        "campaign": _campaigns(journeys, rows),
    })


def _model_rows(model, base: pd.DataFrame, journeys: Journeys, rows: _TouchRows) -> list[pd.DataFrame]:
    """One model's rows: ``base`` with its weights and attributed sums, plus its ``(baseline)`` rows if any."""
    w = touch_weights_of(model, journeys)
    weight = np.where(rows.no_touch, 1.0, w[rows.touch] if journeys.n_touches else 1.0)
    f = base.copy()
    f["model"] = model_spec(model)
    f["weight"] = weight
    f["attributed_conversions"] = weight * journeys.conversions[rows.row_j]
    f["attributed_revenue"] = weight * journeys.revenue[rows.row_j]
    if not _has_baseline(model):
        return [f]
    return [f, _baseline_detail(f, w, journeys, rows.conv_j, rows.starts, rows.lengths)]
