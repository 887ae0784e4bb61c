"""Tidy attribution results (SPEC 5): one row per model × channel, deterministic order and columns."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from attribution.journeys.journeys import Journeys
from attribution.journeys.pathoptions import apply_path_options
from attribution.models import parse_model_spec
from attribution.models.base import declared_extra_columns, local_weights

BASE_COLUMNS = ["model", "channel", "conversions", "revenue", "share"]


def model_spec(model) -> str:
    """The ``model`` column of a fitted model's rows: its spec as written, else its name and non-default
    parameters (:attr:`~attribution.models.base.AttributionModel.label`)."""
    return model.label


def model_lookbacks(models: Sequence, run_lookback: float | None) -> list:
    """The lookback (days, None = unlimited) each model's journeys need, aligned with ``models``
    (:meth:`~attribution.models.base.AttributionModel.journey_lookback`; the run's for a model without one)."""
    return [m.journey_lookback(run_lookback) if hasattr(m, "journey_lookback") else run_lookback for m in models]


def widest_lookback(models: Sequence, run_lookback: float | None) -> float | None:
    """The longest lookback the run's journeys need (None = unlimited): what a conversion window must read."""
    needed = [run_lookback, *model_lookbacks(models, run_lookback)]
    return None if any(x is None for x in needed) else max(float(x) for x in needed)


def journeys_per_model(journeys: Journeys, models: Sequence, events=None) -> list:
    """Each model's journeys, aligned with ``models``: ``journeys`` (built with the run's lookback) unless the
    model declares another lookback, then journeys built from ``events`` with that lookback and every other
    option of ``journeys`` (conversion and milestone events, path options), once per distinct lookback.

    Without ``events`` (a path table: no timestamps, no lookback) every model gets ``journeys``. Journeys built
    with the others at once (:func:`attribution.journeys.lookbacks.journeys_at_lookbacks`, their set in
    ``journeys.meta["by_lookback"]``) are taken from there.
    """
    run = journeys.lookback_days
    known = journeys.meta.get("by_lookback") or {}
    run_key = None if run is None else float(run)
    built: dict = dict(known) if known.get(run_key) is journeys else {}  # the set of these very journeys only
    out = []
    for lookback in model_lookbacks(models, run):
        if events is None or not journeys.has_times:
            out.append(journeys)
            continue
        key = None if lookback is None else float(lookback)
        if key not in built:
            same_lookback = (run is None) == (key is None) and (key is None or float(run) == key)
            built[key] = journeys if same_lookback else apply_path_options(Journeys.from_events(
                events, conversion_events=journeys.meta.get("conversion_events", ("conversion",)),
                lookback_days=lookback,
                milestone_events=journeys.meta.get("milestone_events", ())), journeys.meta.get("path_options"))
        out.append(built[key])
    return out


def fit_models(journeys: Journeys, models: Sequence, threads: int | None = None, per_model=None) -> list:
    """Fit every model on the same journeys (built once), on up to ``threads`` threads (default: the CPUs, at
    most 4).

    Models only read the journeys and numpy releases the GIL in its array loops, so models fit side by side;
    each model's numbers do not depend on the threads. The journeys' shared derived arrays are built first.
    ``per_model`` (:func:`journeys_per_model`) gives each model its own journeys instead.
    """
    models = list(models)
    if per_model is not None:
        out = [None] * len(models)
        for j in {id(x): x for x in per_model}.values():
            at = [i for i, x in enumerate(per_model) if x is j]
            for i, m in zip(at, fit_models(j, [models[i] for i in at], threads)):
                out[i] = m
        return out
    if threads is None:
        threads = min(4, os.cpu_count() or 1)
    if threads <= 1 or len(models) <= 1 or journeys.n_touches < 100_000:
        return [m.fit(journeys) for m in models]
    journeys.lengths, journeys.touch_journey  # noqa: B018 (cached before the threads)
    if any(local_weights(m) for m in models):  # what their credit multiplies, on the journeys they credit from
        c = journeys.crediting
        c.lengths, c.touch_journey, c.touch_position, c.touch_conversions, c.touch_revenue  # noqa: B018
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
