"""Second pass of a partitioned run: per-touch weights of the models whose weights need the whole log.

``--period`` and ``--by campaign`` date or split a model's credit through its per-touch weights. For the
journey-local models (the rule-based ones, ``shapley:game=journey``) those weights come from each journey alone,
so every partition credits its own touches in the first pass. Markov, ``logistic`` and ``shapley:game=rate`` are
different, but their weight of a touch still depends on its journey only through a few numbers:

- Markov rakes weights w_jc ∝ RE(c) · exp(β_c p_j + γ_c v_j) to the channel credit of the whole log
  (:mod:`attribution.models.markov.weights`): a journey's weights are a function of its set of distinct channels, p_j
  (converts or not) and v_j (revenue per conversion), and the multipliers (β, γ) solve one convex problem over
  every journey, in which journeys with the same (set, p, v) only add up their multiplicities;
- ``logistic`` and ``shapley:game=rate`` give every channel set one weight vector, from the conversions,
  non-conversions and revenue per set of the whole log.

So the first pass also returns, per partition, the journeys' additive counts per (channel set, p, v)
(:func:`~attribution.models.set_rows.weight_rows`). The client merges them (sorted by key, as one piece would
be) and solves the weights on the merged rows (:func:`weight_table`): Markov on the rows themselves
(:meth:`~attribution.models.markov.model.Markov.set_row_weights`, the very function its in-memory
``touch_weights`` calls on the rows of the whole log), the others through their own ``touch_weights`` on one
small synthetic :class:`~attribution.journeys.journeys.Journeys` with one journey per row and one touch per
channel of the set, carrying the merged counts. The second pass re-reads every partition, rebuilds its journeys
with the same code, looks up each journey's weights by its (set, p, v) and splits a channel's weight equally over
its touches in the journey, as the models do (:func:`second_pass`). Crediting those weights by channel
[, campaign] [, period] gives additive frames, merged by summing. The numbers equal the in-memory run's up to the
order in which float sums over partitions are
added (the raking runs to the floating-point floor, not to a tolerance).
"""

from __future__ import annotations

import warnings

from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.engines.partial import conversion_users, credit_keys, fit_merged  # noqa: F401 (conversion_users)
from attribution.exceptions import DroppedRowsWarning, InputError
from attribution.io.events import validate_tables
from attribution.journeys.journeys import Journeys
from attribution.kpis.detail import detail_frame
from attribution.kpis.report import touch_credit, touch_weights_of
from attribution.kpis.result import model_spec
from attribution.models.base import local_weights
from attribution.models.channel_sets import set_members
from attribution.models.set_rows import (  # noqa: F401 (the second pass's row helpers, importable here)
    ROW_KEYS, ROW_SUMS, WeightTable, journey_keys, merge_weight_rows, weight_rows,
)


def synthetic_journeys(rows: pd.DataFrame):
    """One journey per (set, p, v) row, one touch per channel of its set, carrying the row's merged counts.

    A row of journeys without conversions but with revenue (p = 0, v > 0: revenue outside a conversion) stands for
    ``n`` journeys of revenue v each; it is repeated ``n`` times so that the raking sees the same multiplicities.
    """
    rows = rows.reset_index(drop=True)
    repeat = np.where((rows["conversions"].to_numpy() == 0) & (rows["revenue"].to_numpy() != 0),
                      rows["n"].to_numpy().round().astype(np.int64), 1)
    conv = rows["conversions"].to_numpy(float)
    nulls = rows["nulls"].to_numpy(float)
    rev = np.where(repeat > 1, rows["v"].to_numpy(float), rows["revenue"].to_numpy(float))
    nulls = np.where(repeat > 1, nulls / np.maximum(repeat, 1), nulls)
    sets = pd.Index(rows["channels"].astype(str))
    distinct, set_of_row = np.unique(sets.to_numpy(dtype=object), return_inverse=True)
    members, names, code = set_members(pd.DataFrame({"channels": distinct}))
    sizes = np.array([len(m) for m in members], np.int64)
    set_codes = [np.array([code[c] for c in m], np.int64) for m in members]  # a loop per distinct set
    row_of = np.repeat(np.arange(len(rows)), repeat)
    lengths = sizes[set_of_row][row_of]
    offsets = np.zeros(len(row_of) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(set_codes) if set_codes else np.zeros(0, np.int64)
    set_start = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=set_start[1:])
    within = np.arange(int(offsets[-1])) - np.repeat(offsets[:-1], lengths)
    touch_channel = flat[np.repeat(set_start[:-1][set_of_row][row_of], lengths) + within]
    journeys = Journeys(channel_names=np.asarray(names, dtype=object), touch_channel=touch_channel,
                        offsets=offsets, conversions=conv[row_of], nulls=nulls[row_of], revenue=rev[row_of])
    return journeys, row_of


def weight_table(model, rows: pd.DataFrame) -> WeightTable:
    """The fitted ``model``'s weights per (set, p, v) row of the merged ``rows`` (warnings of the model's
    ``touch_weights`` pass through, once).

    A model with ``set_row_weights`` (Markov) solves on the rows themselves, as it does in memory; a model with
    ``weights_from_fit`` (hazard) weighs each partition's journeys itself; the others get their ``touch_weights``
    on :func:`synthetic_journeys`.
    """
    if getattr(model, "weights_from_fit", False):  # weights from the fitted parameters and the journey itself
        return FittedWeights(model)
    if hasattr(model, "set_row_weights"):
        return WeightTable.from_pairs(rows, *model.set_row_weights(rows), attribution=model.attribution_.copy())
    journeys, row_of = synthetic_journeys(rows)
    weights = touch_weights_of(model, journeys)  # a model without touch weights: the in-memory message
    n = np.int64(max(journeys.n_channels, 1))
    keys = row_of[journeys.touch_journey].astype(np.int64) * n + journeys.touch_channel
    keys, first = np.unique(keys, return_index=True)  # repeated rows have the same weights
    index = pd.MultiIndex.from_frame(rows[ROW_KEYS].reset_index(drop=True))
    return WeightTable(index, np.asarray(journeys.channel_names, dtype=object), keys, weights[first],
                       model.attribution_.copy())


class FittedWeights:
    """The weight table of a model whose weights of a journey follow from its fitted parameters and that journey's
    user alone (``weights_from_fit``, e.g. ``hazard``): the fitted model weighs each partition's journeys itself."""

    def __init__(self, model):
        self.model = model
        self.attribution = model.attribution_.copy()

    def touch_weights(self, journeys) -> np.ndarray:
        return self.model.touch_weights(journeys)


class _Weighted:
    """A stand-in model for :func:`attribution.kpis.report.touch_credit`: fixed per-touch weights, the fitted credit."""

    def __init__(self, weights, attribution, spec=None):
        self._weights = weights
        self.attribution_ = attribution
        self.spec = spec

    def touch_weights(self, journeys):
        return self._weights

    @staticmethod
    def has_touch_weights() -> bool:
        return True

    @property
    def label(self) -> str:
        return self.spec


def first_conversion_ids(frames) -> pd.Series:
    """Per user id with conversions, the ``conversion_id`` of its first conversion in the whole log: 1 + the
    conversions of every smaller user id (user ids ordered as :func:`attribution.kpis.detail.detail_frame` orders them)."""
    both = pd.concat([f for f in frames if f is not None], ignore_index=True)
    both = both.groupby("user_id", sort=False, as_index=False)["n"].sum()
    order = pc.sort_indices(pa.table({"user": pa.array(both["user_id"])}), sort_keys=[("user", "ascending")])
    both = both.take(order.to_numpy())
    first = 1 + np.cumsum(both["n"].to_numpy()) - both["n"].to_numpy()
    return pd.Series(first, index=pd.Index(both["user_id"]))


def detail_part(models, journeys, events, first_ids, per_model=None) -> pd.DataFrame:
    """One partition's fact table; without a ``conversion_id`` column in the log, the in-memory numbering (1, 2,
    ... over the whole log in (user, time) order) from ``first_ids``. ``per_model``: each model's journeys."""
    frame = detail_frame(models, journeys, events, per_model=per_model)
    if not (events is not None and events.has_column("conversion_id")) and len(frame):
        local = frame["conversion_id"].to_numpy(np.int64)
        local_first = frame.groupby("user_id", sort=False)["conversion_id"].transform("min").to_numpy(np.int64)
        at = first_ids.index.get_indexer(frame["user_id"])
        frame["conversion_id"] = first_ids.to_numpy()[at].astype(np.int64) + local - local_first
    return frame


def second_pass(pieces, spec, tables: dict, lead_tables: dict, detail_models=None, first_ids=None):
    """Re-validate one partition, rebuild its journeys and credit the global-weight models' touches.

    Returns (credits, lead_credits, detail): dicts model index → additive frame ``channel[, campaign][, period],
    conversions, revenue`` (empty dicts for an empty or invalid partition; the first pass reported its problems),
    and with ``detail_models`` the partition's fact table (None otherwise).
    """
    pieces = [(p, t) for p, t in pieces if t is not None]
    if not pieces:
        return {}, {}, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedRowsWarning)
            if spec.grouping is not None:
                pieces = spec.grouping.apply(pieces, spec.mapping)
            events = validate_tables(pieces, mapping=spec.mapping, on_bad_rows=spec.on_bad_rows,
                                     time_rule=spec.time_rule, check_units=False)
    except InputError:
        return {}, {}, None
    cols = credit_keys(spec) + ["conversions", "revenue"]

    keyed = spec.period is not None or spec.by is not None
    detail = None
    if detail_models is not None:
        journeys = spec.journeys(events)
        per_model = spec.per_model(journeys, events)
        models = [_Weighted(tables[i].touch_weights(per_model[i]), tables[i].attribution, spec=s) if i in tables
                  else m for i, (m, s) in enumerate(detail_models)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detail = detail_part(models, journeys, events, first_ids, per_model)

    def credit(tabs, conversion_events):
        if not tabs or not keyed:
            return {}
        per_model = spec.per_model(spec.journeys(events, conversion_events), events)
        out = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, table in tabs.items():
                model = _Weighted(table.touch_weights(per_model[i]), table.attribution)
                out[i] = touch_credit(model, per_model[i], spec.period, spec.by)[cols]
        return out

    lead = credit(lead_tables, (spec.lead_event,)) if spec.lead_event is not None else {}
    return credit(tables, spec.conversion_events), lead, detail


class SecondPass:
    """The engines' hook: ``second(results)`` fits the models on the merged first-pass statistics (kept in
    ``state`` for :func:`~attribution.engines.partial.finalise`), builds the weight tables of the models that need
    them and returns the per-partition function; ``second.attach(result, output)`` puts a partition's second-pass
    credit into its first-pass result."""

    def __init__(self, spec, files, sink=None, spend=None):
        self.spec = spec
        self.files = files
        self.spend = spend  # the spend table, for the run's warnings (attribution.kpis.summary.warn_counts)
        self.sink = sink  # --detail: a DetailSink (engines/detail_out.py) the partitions' fact tables go to
        self.state = None

    def __call__(self, results):
        self.state = fit_merged(results, self.spec, files=self.files, spend=self.spend)
        live = self.state["live"]
        tables, lead_tables = {}, {}
        global_ = [i for i, m in enumerate(self.state["fitted"]) if not local_weights(m)]
        if global_:
            rows = merge_weight_rows([r.weight_rows for r in live])
            tables = {i: weight_table(self.state["fitted"][i], rows) for i in global_}
            if self.state["lead_models"] is not None and (self.spec.period is not None or self.spec.by is not None):
                lead_rows = merge_weight_rows([r.lead_weight_rows for r in live])
                lead_tables = {i: weight_table(self.state["lead_models"][i], lead_rows) for i in global_}
        detail_models = first_ids = None
        if self.sink is not None:
            # journey-local models weigh touches without their fit: unfitted copies travel to the workers
            detail_models = [(None if i in tables else m, model_spec(f))
                             for i, (m, f) in enumerate(zip(self.spec.models(), self.state["fitted"]))]
            first_ids = first_conversion_ids([r.conversion_users for r in live])
        return partial(second_pass, spec=self.spec, tables=tables, lead_tables=lead_tables,
                       detail_models=detail_models, first_ids=first_ids)

    def attach(self, result, output) -> None:
        credits, lead_credits, detail = output
        if detail is not None and self.sink is not None and len(detail):
            self.sink.write(detail)
        for i, frame in credits.items():
            result.credits[i] = frame
        for i, frame in lead_credits.items():
            result.lead_credits[i] = frame
