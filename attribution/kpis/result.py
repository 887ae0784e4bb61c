"""Tidy attribution results (SPEC 5): one row per model × channel, deterministic order and columns."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from attribution.journeys.journeys import Journeys
from attribution.models import parse_model_spec
from attribution.models.base import declared_extra_columns

BASE_COLUMNS = ["model", "channel", "conversions", "revenue", "share"]


def model_spec(model) -> str:
    """The ``model`` column of a fitted model's rows: its spec as written, else its name and non-default
    parameters (:attr:`~attribution.models.base.AttributionModel.label`)."""
    return model.label


def fit_models(journeys: Journeys, models: Sequence, threads: int | None = None) -> list:
    """Fit every model on the same journeys (built once), on up to ``threads`` threads (default: the CPUs, at
    most 4).

    Models only read the journeys and numpy releases the GIL in its array loops, so models fit side by side;
    each model's numbers do not depend on the threads. The journeys' shared derived arrays are built first.
    """
    models = list(models)
    if threads is None:
        threads = min(4, os.cpu_count() or 1)
    if threads <= 1 or len(models) <= 1 or journeys.n_touches < 100_000:
        return [m.fit(journeys) for m in models]
    journeys.lengths, journeys.touch_journey, journeys.touch_position  # noqa: B018 (cached before threads)
    journeys.touch_conversions, journeys.touch_revenue  # noqa: B018
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(threads, len(models))) as pool:
        return list(pool.map(lambda m: m.fit(journeys), models))


def attribution_frame(models: Sequence) -> pd.DataFrame:
    """Concatenate fitted models into the tidy comparison table.

    Columns: ``model, channel, conversions, revenue, share`` then any model-specific column (``removal_effect``)
    that a model of the run provides (null for the others). Rows: models in the order given, channels sorted.
    """
    frames = []
    extras = [c for c in declared_extra_columns() if any(c in m.attribution_.columns for m in models)]
    for m in models:
        f = m.attribution_.copy()
        total = float(f["conversions"].sum())
        f.insert(0, "model", model_spec(m))
        f["share"] = f["conversions"] / total if total > 0 else np.nan
        for c in extras:
            if c not in f.columns:
                f[c] = np.nan
        frames.append(f[BASE_COLUMNS + extras])
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("model", "channel") else float) for c in BASE_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out["model"] = out["model"].astype(object)
    out["channel"] = out["channel"].astype(object)
    for c in out.columns[2:]:
        out[c] = out[c].astype(float)
    return out


def attribute(journeys: Journeys, models: Sequence) -> pd.DataFrame:
    """Fit ``models`` (instances or spec strings) on ``journeys`` and return the tidy table."""
    fitted = fit_models(journeys, [parse_model_spec(m) if isinstance(m, str) else m for m in models])
    return attribution_frame(fitted)
