"""Markov removal-effect attribution, solved exactly, any order (SPEC 3.1).

See :mod:`attribution.models.markov.chain` for the chain and the linear algebra, :mod:`.markov_order` for
``order=auto`` and :mod:`.markov_weights` for per-touch weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa

from attribution.exceptions import InputError, NoNullJourneysWarning, ParameterError, Problem
from attribution.journeys.journeys import Journeys
from attribution.journeys.paths import path_numbers
from attribution.kernels.constants import KEY_SEPARATOR

from attribution.models.base import TouchWeightModel, credit_frame
from attribution.models.params import AnyOf, Boolean, Choice, Integer
from attribution.models.markov.chain import (
    CONVERSION, NULL, EncodedPaths, build_chain, chain_plan, collapse_repeats, encode_strings, parse_paths,
    removal_effects,
)
from attribution.models.markov.order import CANDIDATE_ORDERS, select_order
from attribution.models.markov.paths import split_paths
from attribution.models.markov.weights import set_row_weights
from attribution.models.set_rows import WeightTable, journey_keys, weight_rows

STATS_COLUMNS = ("path", "conversions", "nulls", "revenue")


class Markov(TouchWeightModel):
    """Removal-effect attribution on an absorbing k-order Markov chain, solved exactly.

    States are sliding windows of ``order`` consecutive channels of each path (a path of at most ``order``
    channels is one state), plus START, CONVERSION and NULL. Transition probabilities are counts over all
    journeys, converting and not. P(conversion) from START solves (I − Q) x = r with a sparse solver; removing
    channel c sends every transition into a state containing c to NULL, and RE(c) = 1 − P₋c / P. Conversions of
    journeys with a touch are credited in proportion to RE(c); revenue in proportion to the value removal
    effects (the same solve with the revenue of the conversions as right-hand side). Touchless conversions go to
    ``(none)``.

    Parameters
    ----------
    order : int >= 1 or "auto", default 1
        Markov order k. ``"auto"`` picks k in 1..4 by out-of-sample log-likelihood of journey outcomes on a
        seeded split (see :mod:`attribution.models.markov.order`).
    collapse : bool, default False
        Merge consecutive repeats of a channel first (``a > a > b`` → ``a > b``); changes nothing at order 1.
    seed : int, default 0
        Seed of the ``order="auto"`` split.

    Attributes
    ----------
    attribution_ : pandas.DataFrame
        ``channel, conversions, revenue, removal_effect``.
    removal_effects_ : pandas.DataFrame
        ``channel, removal_effect, revenue_removal_effect, conversion_probability_without,
        expected_revenue_without``.
    conversion_probability_ : float
        P(conversion) from START (with ML counts: the conversion rate of journeys with a touch).
    expected_revenue_ : float
        Expected revenue per journey from START.
    order_ : int
        The order used (the chosen one with ``order="auto"``).
    order_scores_ : pandas.DataFrame or None
        With ``order="auto"``: ``order, log_likelihood, n_states`` of every candidate.
    chain_ : Chain
        The fitted chain (:meth:`transition_matrix`, :meth:`transition_graph` read it).

    Notes
    -----
    Sufficient statistics (:meth:`partial_stats`) are the path table itself: key ``path`` (channel names joined
    by the unit separator ``\\x1f``, empty for touchless journeys), sums ``conversions, nulls, revenue``. Merging
    by path is exact, serves every order (and ``order="auto"``) from one table, and keeps fractional counts.
    Every channel of a partition's vocabulary also gets a zero row, so channels without journeys still get a
    row (with 0 credit), as for the other models.

    References
    ----------
    .. [1] Anderl, Becker, von Wangenheim & Schumann, "Mapping the customer journey: Lessons learned from
       graph-based online attribution modeling", IJRM 33(3), 2016.
    .. [2] Archak, Mirrokni & Muthukrishnan, "Mining advertiser-specific user behavior using adfactors",
       WWW 2010.
    .. [3] Altomare & Loris, ChannelAttribution (R/C++ and PyPI ``channelattribution``): the same quantities by
       simulation.
    """

    name = "markov"
    imports = ("scipy.sparse.linalg",)
    extra_columns = ("removal_effect",)
    stats_keys = ("path",)
    #: a journey's weights depend on every other journey (through the chain): bootstraps must refit
    journey_local = False

    parameter_constraints = {"order": AnyOf((Integer(1), Choice(("auto",)))), "collapse": Boolean(),
                             "seed": Integer(0)}

    def __init__(self, order=1, collapse=False, seed=0):
        self._set_params(order=order, collapse=collapse, seed=seed)

    # ------------------------------------------------------------------ sufficient statistics
    def _partial_stats(self, journeys: Journeys) -> pd.DataFrame:
        names = [str(c) for c in journeys.channel_names]
        bad = [c for c in names if KEY_SEPARATOR in c]
        if bad:
            raise InputError(Problem("channel_separator", "a channel name contains the control character \\x1f",
                                     "remove control characters from channel names", column="channel",
                                     count=len(bad), example={"channel": bad[0]}))
        keys = journeys.path_strings(KEY_SEPARATOR)
        vocab = pa.array(names, pa.string())
        keys = pa.concat_arrays([keys.cast(pa.string()), vocab])
        z = np.zeros(len(vocab))
        codes, distinct = encode_strings(keys)
        n = len(distinct)
        frame = pd.DataFrame({
            "path": pd.Series(distinct, dtype=object),
            "conversions": np.bincount(codes, np.r_[journeys.conversions, z], minlength=n),
            "nulls": np.bincount(codes, np.r_[journeys.nulls, z], minlength=n),
            "revenue": np.bincount(codes, np.r_[journeys.revenue, z], minlength=n),
        })
        return frame

    def _fit_stats(self, stats: pd.DataFrame) -> None:
        missing = [c for c in STATS_COLUMNS if c not in stats.columns]
        if missing:
            raise ParameterError(f"Markov statistics need the columns {', '.join(STATS_COLUMNS)}; "
                                 f"missing {', '.join(missing)}.")
        paths = pa.array(stats["path"].astype(object).tolist(), pa.string())
        self._fit_encoded(parse_paths(paths, stats["conversions"].to_numpy(float), stats["nulls"].to_numpy(float),
                                      stats["revenue"].to_numpy(float)))

    # ------------------------------------------------------------------ fitting
    def _fit(self, journeys: Journeys) -> None:
        """Fit on journeys (an event log's or a path table's); same result as ``fit_stats(partial_stats(j))``.

        The chain's counts add up over journeys, so this skips the string keys of the statistics.
        """
        self._fit_encoded(EncodedPaths(np.asarray(journeys.channel_names, dtype=object),
                                       np.asarray(journeys.touch_channel, np.int64),
                                       np.asarray(journeys.offsets, np.int64), journeys.conversions,
                                       journeys.nulls, journeys.revenue))

    def fit_paths(self, frame, *, separator: str = " > ", path="path", conversions="conversions", nulls="nulls",
                  revenue="revenue") -> "Markov":
        """Fit straight from a path table (SPEC 1.2) held in memory, without building Journeys first.

        Parameters
        ----------
        frame : pandas.DataFrame or pyarrow.Table
            One row per path (duplicates are fine: counts add up); ``nulls`` and ``revenue`` may be absent.
        separator : str
            What joins the channels (surrounding white space of each channel is ignored).
        path, conversions, nulls, revenue : str
            The names of the columns.

        Raises
        ------
        InputError
            For a missing column, and (every one at once) for counts or revenue that are not finite numbers, are
            negative or exceed :data:`attribution.io.columns.MAX_VALUE`, as
            :func:`attribution.journeys.paths.read_paths`.
        """
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        if path not in table.column_names or conversions not in table.column_names:
            raise InputError(Problem("column_missing", f"a path table needs columns '{path}' and '{conversions}'",
                                     "name the columns or pass path=/conversions=", column=path))
        problems: list[Problem] = []
        counts = [path_numbers(table, col, problems, path=path) for col in (conversions, nulls, revenue)]
        if problems:
            raise InputError(problems)
        codes, offsets, names = split_paths(table[path], separator)
        self._fit_encoded(EncodedPaths(names, codes, offsets, *counts))
        return self

    def replicate_fitter(self, journeys: Journeys):
        """A function of per-journey weights ``k`` returning a fresh copy of this model fitted on ``journeys``
        with conversions, nulls and revenue times ``k`` (a bootstrap replicate), the same numbers as
        ``clone().fit(...)`` on those journeys: the chain's windows and transition keys are built once for all
        replicates. None when the order is chosen per fit (``order="auto"``)."""
        if self.order == "auto":
            return None
        paths = EncodedPaths(np.asarray(journeys.channel_names, dtype=object),
                             np.asarray(journeys.touch_channel, np.int64), np.asarray(journeys.offsets, np.int64),
                             journeys.conversions, journeys.nulls, journeys.revenue)
        if self.collapse:
            paths = collapse_repeats(paths)
        plan = chain_plan(paths, int(self.order), keep_keys=True)

        def fit(k: np.ndarray) -> "Markov":
            model = self.clone()
            model._fit_encoded(paths.subset(paths.conversions * k, paths.nulls * k, paths.revenue * k), plan=plan)
            return model

        return fit

    def _fit_encoded(self, p: EncodedPaths, plan=None) -> None:
        """Fit on encoded paths; with ``plan`` (:func:`chain_plan` of these paths, already collapsed when
        ``collapse``) the chain reuses its windows."""
        if self.collapse and plan is None:
            p = collapse_repeats(p)
        touched = p.lengths > 0
        conv_touch = float(p.conversions[touched].sum())
        rev_touch = float(p.revenue[touched].sum())
        if conv_touch > 0 and float(p.nulls[touched].sum()) == 0:
            warnings.warn(
                "Markov: there are no non-converting journeys, so every walk converts (P(conversion) = 1) and the "
                "chain cannot tell channels apart by their conversion odds: each removal effect is just the share "
                "of converting journeys that contain the channel. Include non-converting journeys (users who never "
                "converted; the 'nulls' column of a path table) for a meaningful Markov attribution.",
                NoNullJourneysWarning, stacklevel=3)
        if self.order == "auto":
            order, scores = select_order(p, self.seed, CANDIDATE_ORDERS)
        else:
            order, scores = int(self.order), None
        chain = build_chain(p, order, plan)
        eff = removal_effects(chain)
        re, rev_re = eff.conversion, eff.revenue
        conv_credit = _share(re, conv_touch)
        rev_basis = rev_re if rev_re.sum() > 0 else re
        rev_credit = _share(rev_basis, rev_touch)
        names = np.asarray(p.channel_names, dtype=object)
        self.attribution_ = credit_frame(names, conv_credit, rev_credit, float(p.conversions[~touched].sum()),
                                         float(p.revenue[~touched].sum()), removal_effect=re)
        self.removal_effects_ = pd.DataFrame({
            "channel": pd.Series(names, dtype=object), "removal_effect": re, "revenue_removal_effect": rev_re,
            "conversion_probability_without": eff.probability_without,
            "expected_revenue_without": eff.value_without,
        })
        self.conversion_probability_ = eff.probability
        self.expected_revenue_ = eff.value
        self.order_ = order
        self.order_scores_ = scores
        self.chain_ = chain
        self._credit = (names, conv_credit, rev_credit, re)

    # ------------------------------------------------------------------ inspection
    def _fitted_chain(self):
        self.attribution_  # raises NotFittedError when not fitted
        return self.chain_

    def transition_matrix(self, separator: str = " > ") -> pd.DataFrame:
        """The fitted transitions as a tidy frame ``from_state, to_state, count, probability``.

        States are ``(start)``, ``(conversion)``, ``(null)`` and channel windows written ``a > b``. Rows are
        sorted by source state then target state (state order: start, channel states, conversion, null); counts
        are the (possibly fractional) journey counts, probabilities count / all counts out of the source state
        (self-loops included: they change no absorption probability).
        """
        chain = self._fitted_chain()
        n_t = chain.n_states + 1
        names = np.array(chain.state_names(separator) + [CONVERSION, NULL], dtype=object)
        states = np.arange(n_t)
        src = np.r_[chain.src, states, states]
        dst = np.r_[chain.dst, np.full(n_t, n_t), np.full(n_t, n_t + 1)]
        cnt = np.r_[chain.count, chain.to_conversion, chain.to_null]
        keep = cnt > 0
        src, dst, cnt = src[keep], dst[keep], cnt[keep]
        order = np.lexsort((dst, src))
        src, dst, cnt = src[order], dst[order], cnt[order]
        return pd.DataFrame({"from_state": pd.Series(names[src], dtype=object),
                             "to_state": pd.Series(names[dst], dtype=object),
                             "count": cnt, "probability": cnt / chain.out[src]})

    def transition_graph(self, separator: str = " > "):
        """The fitted chain as a ``networkx.DiGraph`` (edge attributes ``count`` and ``probability``)."""
        import networkx as nx

        frame = self.transition_matrix(separator)
        graph = nx.DiGraph(order=self.order_)
        graph.add_nodes_from(np.array(self.chain_.state_names(separator) + [CONVERSION, NULL], dtype=object))
        graph.add_edges_from((f, t, {"count": float(c), "probability": float(p)})
                             for f, t, c, p in frame.itertuples(index=False))
        return graph

    # ------------------------------------------------------------------ touch weights
    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Per-touch weights (sum 1 per journey with touches) such that ``credit_table(journeys, w)``
        reproduces ``attribution_`` when ``journeys`` are the ones the model was fitted on.

        Weights over the distinct channels of each journey are raked to the channel credit starting from the
        removal effects (see :mod:`attribution.models.markov.weights`); a channel's weight is split equally over
        its touches in the journey. For other journeys (a subset, a period), the targets are the fitted credit
        scaled to their totals. Warns (:class:`~attribution.exceptions.TouchWeightsWarning`) when no
        weights reproduce the credit exactly.

        The weights are solved on the journeys' (channel set, p, v) rows (:meth:`set_row_weights`) and looked up
        per touch: a partitioned run solves on the merged rows of its partitions, the same arrays, so it gets
        the same weights.
        """
        self.attribution_
        if not isinstance(journeys, Journeys):
            raise ParameterError(f"Markov.touch_weights expects Journeys; got {type(journeys).__name__}.")
        if journeys.n_touches == 0:
            return np.zeros(0)
        keys = journey_keys(journeys)
        rows = weight_rows(journeys, keys)
        return WeightTable.from_pairs(rows, *self.set_row_weights(rows)).touch_weights(journeys, keys)

    def set_row_weights(self, rows: pd.DataFrame):
        """Weights per (row, channel) of (channel set, p, v) rows (:func:`attribution.models.set_rows.weight_rows`,
        of one log or merged from its partitions): ``(names, pair_row, pair_channel, weights)``."""
        self.attribution_
        names, conv_credit, rev_credit, re = self._credit
        return set_row_weights(rows, names, re, conv_credit, rev_credit)


def _share(effects: np.ndarray, total: float) -> np.ndarray:
    s = float(effects.sum())
    if s <= 0:
        return np.zeros(len(effects))
    return total * effects / s
