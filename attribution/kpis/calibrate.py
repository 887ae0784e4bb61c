"""Calibration of a model's credit to experiments (``--experiments lift.csv``).

An experiment (a geo test, a holdout) measures how many conversions a channel really caused in a time window.
An observational model credits every conversion to some touch, so its credit is usually not that number. The
calibration scales each channel's credit by one factor per model and channel, chosen so that the model's credit
for the conversions *in each test's window* matches what the test measured, and moves the difference to a
``(baseline)`` row: credited totals still equal the input's.

The experiment table
--------------------
========================= ======== ========================================================================
column                    required meaning
========================= ======== ========================================================================
channel                   yes      the tested channel, spelled as in the event log
start, end                yes      the test window (dates or timestamps, UTC); a date (or a midnight
                                   timestamp) as ``end`` covers that whole day; the window must lie within
                                   the days of the log
incremental_conversions   yes      conversions the channel caused in the window (a number >= 0)
se                        no       its standard error (>= 0; null or absent: unknown, taken as exact)
========================= ======== ========================================================================

The rule
--------
For test ``i`` of channel ``c`` and a fitted model, ``C_i`` is the model's credit to ``c`` for conversions whose
time falls in the window (per-touch weights × conversions, dated by the conversion as ``--period`` dates
credit), ``M_i`` the measured incremental conversions and ``s_i`` its standard error. Then

1. **Per test**: ``f_i = M_i / C_i`` with variance ``v_i = (s_i / C_i)²``. A test the model gives no credit
   (``C_i = 0``) carries no factor and is left out with a warning.
2. **Per channel** (inverse-variance pooling of its tests): ``f̂_c = Σ f_i / v_i / Σ 1 / v_i`` and
   ``v_c = 1 / Σ 1 / v_i``. When some tests have no standard error (exact tests) only those count, pooled as
   ``f̂_c = Σ M_i / Σ C_i`` with ``v_c = 0`` (the inverse-variance mean when ``var M_i ∝ C_i``, as for counts).
3. **Between channels** (``k`` tested channels): the prior mean ``m`` and the between-channel variance ``τ²``
   by the method of moments (unweighted, Hedges 1983):

   - ``shrink_to="pooled"`` with ``k >= 2``: ``τ² = max(0, Σ (f̂_c − f̄)² / (k − 1) − Σ v_c / k)`` with
     ``f̄`` the plain mean of the ``f̂_c``, and ``m = μ̂``, the precision-weighted mean
     ``μ̂ = Σ f̂_c / (v_c + τ²) / Σ 1 / (v_c + τ²)``;
   - ``shrink_to="one"``, or a single tested channel: ``m = 1`` (the model as it is) and
     ``τ² = max(0, Σ (f̂_c − 1)² / k − Σ v_c / k)``.

4. **Tested channels** (empirical-Bayes shrinkage of the normal–normal model ``f_c ~ N(m, τ²)``,
   ``f̂_c | f_c ~ N(f_c, v_c)``): ``f_c = w_c · f̂_c + (1 − w_c) · m`` with ``w_c = τ² / (τ² + v_c)``
   (``w_c = 1`` when ``v_c = 0``). A test with a large standard error moves its channel little from ``m``.
5. **Untested channels** (``untested="pool"``): the pooled mean shrunk toward 1 by how well it is known,
   ``f_u = 1 + λ · (μ̂ − 1)`` with ``λ = (μ̂ − 1)² / ((μ̂ − 1)² + V)`` and ``V = 1 / Σ 1 / (v_c + τ²)``
   the variance of ``μ̂`` (``λ = 1`` when ``V = 0``): the minimum mean-squared-error linear shrinkage of the pooled
   shift ``μ̂ − 1`` (James & Stein 1961, with the shift's square as its plug-in signal). Tested channels that
   disagree (a large ``τ²``) make ``V`` large, and leave the untested ones near their own credit.
   ``untested="keep"`` leaves them unchanged (``f_u = 1``).

The channel's ``conversions`` and ``revenue`` (and bootstrap bounds) are multiplied by its factor on every row
(every period, every campaign); ``uncalibrated_conversions`` keeps the model's credit and ``calibration_factor``
the factor. Per model (and period), ``Σ (uncalibrated − calibrated)`` of conversions and revenue goes to the
``(baseline)`` row (added to it when the model has one), so that credited totals still equal the input's; it is
negative when the experiments find more incremental conversions than the model credits. ``share``, ``roas``,
``media_roas``, ``roi``, ``cpa`` and ``revenue_per_conversion`` are recomputed from the calibrated sums.
``(none)`` (touchless conversions) is not a channel and is never scaled. Leads (``cpl``), ``removal_effect``
and the ``--detail`` fact table are not calibrated.

References
----------
.. [1] Gordon, Zettelmeyer, Bhargava & Chapsky, "A comparison of approaches to advertising measurement:
   evidence from big field experiments at Facebook", Marketing Science 38(2), 2019.
.. [2] DerSimonian & Laird, "Meta-analysis in clinical trials", Controlled Clinical Trials 7, 1986
   (inverse-variance pooling with a between-study variance).
.. [3] Hedges, "A random effects model for effect sizes", Psychological Bulletin 93, 1983 (the unweighted
   moment estimator of the between-study variance).
.. [4] Efron & Morris, "Stein's estimation rule and its competitors: an empirical Bayes approach", JASA 68,
   1973; James & Stein, "Estimation with quadratic loss", Berkeley Symposium 1961.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import InputError, ParameterError, Problem, option
from attribution.io.columns import number_column
from attribution.io.periods import check_choice
from attribution.io.sources import file_kind, read_columns, read_schema_names
from attribution.io.timeparse import NS_PER_DAY, to_epoch_ns
from attribution.kernels.constants import BASELINE_CHANNEL, NONE_CHANNEL
from attribution.journeys.journeys import Journeys
from attribution.kpis.report import ratio, touch_weights_of
from attribution.kpis.result import model_spec

__all__ = ["Experiments", "read_experiments", "check_experiments", "window_credit", "pool_factors",
           "apply_factors", "calibrate", "lift_tests_from_truth", "true_window_conversions", "BASELINE"]

BASELINE = BASELINE_CHANNEL
REQUIRED = ("channel", "start", "end", "incremental_conversions")
OPTIONAL = ("se",)
UNTESTED = ("pool", "keep")
SHRINK_TO = ("pooled", "one")
RESERVED = (NONE_CHANNEL, BASELINE)
FACTOR_COLUMNS = ["model", "channel", "tests", "credited", "measured", "raw_factor", "se_factor", "weight",
                  "calibration_factor"]


@dataclass
class Experiments:
    """A validated experiment table.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per test: ``channel`` (object), ``start`` and ``stop`` (int64 UTC epoch ns; the window is
        ``start <= t < stop``), ``incremental_conversions`` (float), ``se`` (float, 0 = unknown), ``row``
        (0-based row in the file).
    file : str
    """

    frame: pd.DataFrame
    file: str = "<frame>"


# ---------------------------------------------------------------------------------------------------- reading
def read_experiments(source) -> Experiments:
    """Read and validate an experiment table (CSV or Parquet file, a pandas frame, or :class:`Experiments`).

    Raises
    ------
    InputError
        With every broken rule at once: a missing file or column, a missing or reserved channel, an unparsable
        start or end, an end before its start, a non-numeric, negative or infinite ``incremental_conversions``
        or ``se``.
    """
    if isinstance(source, Experiments):
        return source
    table, path = _load(source)
    rows = table["_row"].to_numpy()
    names = table.column_names
    problems: list[Problem] = []

    def flag(code, column, rule, fix, mask):
        mask = np.asarray(mask, bool)
        if mask.any():
            first = int(np.flatnonzero(mask)[0])
            example = {c: _py(table[c][first].as_py()) for c in REQUIRED + OPTIONAL if c in names}
            problems.append(Problem(code, rule, fix, file=path, column=column, count=int(mask.sum()),
                                    first_row=int(rows[first]), example=example))

    col = table["channel"]
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    channel = pc.utf8_trim_whitespace(col.cast(pa.string()))
    ch = np.asarray(channel.to_numpy(zero_copy_only=False), dtype=object)
    flag("channel_missing", "channel", "must be set on every test", "fill the tested channel of every row",
         pc.fill_null(pc.equal(channel, ""), True).to_numpy(zero_copy_only=False))
    flag("channel_reserved", "channel", f"must not be {' or '.join(map(repr, RESERVED))} (not channels)",
         "name the tested channel as the event log spells it", np.isin(ch, RESERVED))
    start, bad_start = to_epoch_ns(table["start"])
    end, bad_end = to_epoch_ns(table["end"])
    flag("start_unparsable", "start", "must be a date (2026-01-31), a timestamp or an ISO-8601 string",
         "fix the window's first day", bad_start)
    flag("end_unparsable", "end", "must be a date (2026-01-31), a timestamp or an ISO-8601 string",
         "fix the window's last day", bad_end)
    whole_day = np.mod(end, NS_PER_DAY) == 0
    stop = np.where(whole_day, end + NS_PER_DAY, end + 1)  # a date as end covers its day; a time is inclusive
    flag("end_before_start", "end", "must not be before start", "swap start and end, or fix the dates",
         ~bad_start & ~bad_end & (end < start))
    measured, broken = number_column(
        table["incremental_conversions"], required=True, fix="store the measured incremental conversions as numbers",
        negative_fix="a test that found a negative lift measures 0 within its noise: enter 0 (with its se)")
    for b in broken:
        flag(b.code, "incremental_conversions", b.rule, b.fix, b.mask)
    se = np.zeros(table.num_rows)
    if "se" in names:  # empty: unknown (0)
        se, broken = number_column(table["se"], fix="store standard errors as numbers", empty_means="unknown",
                                   negative_fix="a standard error is never negative: check the column")
        for b in broken:
            flag(b.code, "se", b.rule, b.fix, b.mask)
    if table.num_rows == 0:
        problems.append(Problem("no_tests", "the experiment table has no rows", "add one row per test", file=path))
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame({"channel": pd.array(ch, dtype=object), "start": start, "stop": stop,
                          "incremental_conversions": measured, "se": se, "row": rows.astype(np.int64)})
    frame["channel"] = frame["channel"].astype(object)
    return Experiments(frame, path)


def _load(source) -> tuple[pa.Table, str]:
    """The table with its canonical columns and ``_row``, or an InputError on a missing file or column."""
    if isinstance(source, pd.DataFrame):
        path = "<frame>"
        table = _frame_table(source)
        table = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        names = table.column_names
    else:
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InputError(Problem("file_missing", "the experiments file does not exist",
                                     f"check the {option('experiments')} path (it is read relative to the working directory)",
                                     file=path))
        if file_kind(path) is None:
            raise InputError(Problem("unknown_format", "the experiments file is neither Parquet (.parquet) nor CSV "
                                     "(.csv)", "rename the file with its format's extension", file=path))
        names = read_schema_names(path)
        table = None
    found = ", ".join(map(str, names[:12])) + (", ..." if len(names) > 12 else "")
    missing = [Problem("column_missing", f"required experiment column '{c}' is missing (columns found: {found})",
                       f"name the columns {', '.join(REQUIRED)}[, se]", file=path, column=c)
               for c in REQUIRED if c not in names]
    if missing:
        raise InputError(missing)
    wanted = [c for c in REQUIRED + OPTIONAL if c in names]
    if table is None:
        table = read_columns(path, wanted)
    return table.select(wanted + ["_row"]), path


def _frame_table(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame as Arrow; a column of mixed Python types becomes text (then validated like a CSV's)."""
    cols = {}
    for name in frame.columns:
        try:
            cols[str(name)] = pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            cols[str(name)] = pa.array([None if pd.isna(v) else str(v) for v in frame[name]], pa.string())
    return pa.table(cols)


def _py(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def check_experiments(experiments: Experiments, channels, first_ns: int, last_ns: int) -> None:
    """Check the tests against the log: known channels, windows within the days of the log.

    Parameters
    ----------
    experiments : Experiments
    channels : sequence of str
        The log's touch channels.
    first_ns, last_ns : int
        The log's first and last timestamps (UTC epoch ns); a window must lie within their days.

    Raises
    ------
    InputError
    """
    f = experiments.frame
    problems: list[Problem] = []

    def flag(code, column, rule, fix, mask):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            example = {"channel": f["channel"].iloc[i], "start": _iso(f["start"].iloc[i]),
                       "end": _iso(f["stop"].iloc[i] - 1)}
            problems.append(Problem(code, rule, fix, file=experiments.file, column=column, count=int(mask.sum()),
                                    first_row=int(f["row"].iloc[i]), example=example))

    known = sorted(map(str, channels))
    flag("channel_unknown", "channel", "must be a channel of the event log's touches",
         f"spell it as the log does (log channels: {', '.join(known[:12])}{', ...' if len(known) > 12 else ''})",
         ~f["channel"].isin(known).to_numpy())
    lo = (int(first_ns) // NS_PER_DAY) * NS_PER_DAY
    hi = (int(last_ns) // NS_PER_DAY + 1) * NS_PER_DAY
    flag("window_outside_log", "start", "the test window must lie within the days of the event log",
         f"the log runs from {_iso(lo)[:10]} to {_iso(hi - 1)[:10]}; shorten the window or add the missing days "
         "to the log", ((f["start"] < lo) | (f["stop"] > hi)).to_numpy())
    if problems:
        raise InputError(problems)


def _iso(ns) -> str:
    return pd.Timestamp(int(ns), unit="ns").isoformat()


# ---------------------------------------------------------------------------------------------------- credit
def window_credit(model, journeys: Journeys, experiments: Experiments) -> np.ndarray:
    """A fitted model's credit to each test's channel for the conversions in its window.

    The model's per-touch weights × the journey's conversions, dated by the journey's conversion time (as
    ``--period`` dates credit), summed over the touches of the tested channel whose conversion falls in
    ``start <= t < stop``. Touches are sorted once by (channel, conversion time); each test then sums one
    contiguous slice (a loop over tests, not over touches).

    Returns
    -------
    numpy.ndarray of float, one per test (row order of ``experiments.frame``).
    """
    if not journeys.has_times:
        raise ParameterError(f"{option('experiments')} needs conversion dates, which a path table does not have; run it "
                             "on an event log.")
    weights = touch_weights_of(model, journeys)
    tj = journeys.touch_journey
    x = weights * journeys.conversions[tj]
    live = x != 0
    ch, t, x = journeys.touch_channel[live], journeys.end_time[tj[live]], x[live]
    order = np.lexsort((t, ch))
    ch, t, x = ch[order], t[order], x[order]
    bounds = np.searchsorted(ch, np.arange(journeys.n_channels + 1))
    code = {str(name): i for i, name in enumerate(journeys.channel_names)}
    f = experiments.frame
    out = np.zeros(len(f))
    for i, (c, start, stop) in enumerate(zip(f["channel"], f["start"], f["stop"])):  # a loop over tests
        k = code.get(str(c))
        if k is None:
            continue
        a, b = bounds[k], bounds[k + 1]
        lo = a + np.searchsorted(t[a:b], start, "left")
        hi = a + np.searchsorted(t[a:b], stop, "left")
        out[i] = float(x[lo:hi].sum())
    return out


# ---------------------------------------------------------------------------------------------------- pooling
def _weighted_mean(values: np.ndarray, variances: np.ndarray) -> tuple[float, float]:
    """Inverse-variance mean and its variance; the zero-variance values alone (plain mean, variance 0) when any."""
    exact = variances <= 0
    if exact.any():
        return float(values[exact].mean()), 0.0
    w = 1.0 / variances
    return float((w * values).sum() / w.sum()), float(1.0 / w.sum())


def channel_factors(credited, measured, se) -> tuple[float, float]:
    """One channel's pooled factor ``f̂_c`` and its variance ``v_c`` from its tests (step 2 of the rule)."""
    credited, measured, se = (np.asarray(a, float) for a in (credited, measured, se))
    exact = se <= 0
    if exact.any():
        return float(measured[exact].sum() / credited[exact].sum()), 0.0
    return _weighted_mean(measured / credited, (se / credited) ** 2)


def pool_factors(tests: pd.DataFrame, channels, *, untested: str = "pool", shrink_to: str = "pooled") -> pd.DataFrame:
    """Calibration factors of every channel from one model's tests (steps 2–5 of the module's rule).

    Parameters
    ----------
    tests : pandas.DataFrame
        ``channel, credited, measured, se`` (one row per test; ``se`` 0 = exact).
    channels : sequence of str
        Every channel to give a factor (tested or not).
    untested : {"pool", "keep"}
    shrink_to : {"pooled", "one"}

    Returns
    -------
    pandas.DataFrame
        One row per channel (order of ``channels``): ``channel, tests, credited, measured, raw_factor`` (``f̂_c``,
        null when untested), ``se_factor`` (``√v_c``), ``weight`` (``w_c``; ``λ`` for untested channels) and
        ``calibration_factor``.
    """
    untested = check_choice("untested", untested, UNTESTED)
    shrink_to = check_choice("shrink_to", shrink_to, SHRINK_TO)
    tests = tests[tests["credited"] > 0]
    groups = {c: g for c, g in tests.groupby("channel", sort=True)}
    names = list(groups)
    pooled = [channel_factors(g["credited"], g["measured"], g["se"]) for g in groups.values()]  # per channel
    raw = np.array([f for f, _ in pooled], float)
    var = np.array([v for _, v in pooled], float)
    k = len(names)
    if k >= 2 and shrink_to == "pooled":
        tau2 = max(0.0, float(raw.var(ddof=1)) - float(var.mean()))
    elif k:
        tau2 = max(0.0, float(((raw - 1.0) ** 2).mean()) - float(var.mean()))
    else:
        tau2 = 0.0
    mu, big_v = _weighted_mean(raw, var + tau2) if k else (1.0, 0.0)
    prior = mu if (k >= 2 and shrink_to == "pooled") else 1.0
    weight = np.where(var > 0, np.divide(tau2, tau2 + var, out=np.zeros(k), where=var > 0), 1.0)
    shrunk = weight * raw + (1.0 - weight) * prior
    if untested == "pool" and k:
        shift2 = (mu - 1.0) ** 2
        lam = 1.0 if big_v <= 0 or shift2 + big_v == 0 else shift2 / (shift2 + big_v)
    else:
        lam = 0.0
    f_untested = 1.0 + lam * (mu - 1.0)
    rows = []
    for c in channels:
        if c in groups:
            i = names.index(c)
            g = groups[c]
            rows.append((c, len(g), float(g["credited"].sum()), float(g["measured"].sum()), raw[i],
                         float(np.sqrt(var[i])), float(weight[i]), float(shrunk[i])))
        else:
            rows.append((c, 0, 0.0, 0.0, np.nan, np.nan, lam, f_untested))
    out = pd.DataFrame(rows, columns=FACTOR_COLUMNS[1:])
    out["channel"] = out["channel"].astype(object)
    out["tests"] = out["tests"].astype(np.int64)
    return out


# ---------------------------------------------------------------------------------------------------- applying
RATIO_COLUMNS = (("roas", "revenue", "spend"), ("media_roas", "revenue", "media_spend"),
                 ("cpa", "spend", "conversions"), ("revenue_per_conversion", "revenue", "conversions"))
SCALED_BOUNDS = ("conversions_lo", "conversions_hi", "revenue_lo", "revenue_hi")


def apply_factors(table: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Scale a KPI table's credit by per model × channel factors and move the difference to ``(baseline)``.

    Parameters
    ----------
    table : pandas.DataFrame
        The run's table (``model, channel`` [, ``campaign``] [, ``period``], ``conversions, revenue, share``, ...).
    factors : pandas.DataFrame
        ``model, channel, calibration_factor``; rows of other (model, channel) pairs, ``(none)`` and
        ``(baseline)`` keep their credit.

    Returns
    -------
    pandas.DataFrame
        The table with ``conversions``, ``revenue`` (and bootstrap bounds) scaled, ``uncalibrated_conversions``
        and ``calibration_factor`` after ``share`` (null on the rows not calibrated), one ``(baseline)`` row per
        model (and period) holding the difference, and ``share``, ``roas``, ``media_roas``, ``roi``, ``cpa``,
        ``revenue_per_conversion`` recomputed from the calibrated sums. Rows of a model stay sorted by their keys.
    """
    keys = [k for k in ("channel", "campaign", "period") if k in table.columns]
    group = ["model"] + (["period"] if "period" in table.columns else [])
    f = table[["model", "channel"]].merge(factors[["model", "channel", "calibration_factor"]],
                                          on=["model", "channel"], how="left")["calibration_factor"].to_numpy(float)
    f = np.where(table["channel"].isin(RESERVED).to_numpy(), np.nan, f)
    scale = np.where(np.isnan(f), 1.0, f)
    out = table.copy()
    before = out["conversions"].to_numpy(float)
    for c in ("conversions", "revenue") + tuple(b for b in SCALED_BOUNDS if b in out.columns):
        out[c] = out[c].to_numpy(float) * scale
    cols = list(out.columns)
    at = cols.index("share") + 1 + sum(b in cols for b in SCALED_BOUNDS)
    out.insert(at, "uncalibrated_conversions", before)
    out.insert(at + 1, "calibration_factor", f)
    out = _with_baseline(out, table, group, keys)
    return _recompute(out, group)


def _with_baseline(out: pd.DataFrame, table: pd.DataFrame, group: list, keys: list) -> pd.DataFrame:
    """Add Σ (before − after) of conversions and revenue per model (and period) to its ``(baseline)`` row."""
    delta = pd.DataFrame({g: table[g] for g in group})
    delta["conversions"] = table["conversions"].to_numpy(float) - out["conversions"].to_numpy(float)
    delta["revenue"] = table["revenue"].to_numpy(float) - out["revenue"].to_numpy(float)
    delta = delta.groupby(group, sort=False, as_index=False)[["conversions", "revenue"]].sum()
    is_base = (out["channel"] == BASELINE).to_numpy()
    first = out[is_base].reset_index().drop_duplicates(group)[group + ["index"]]
    hit = delta.merge(first, on=group, how="left")
    has = hit["index"].notna().to_numpy()
    idx = hit.loc[has, "index"].to_numpy(np.int64)
    out.loc[idx, "conversions"] += hit.loc[has, "conversions"].to_numpy()
    out.loc[idx, "revenue"] += hit.loc[has, "revenue"].to_numpy()
    new = hit.loc[~has, group + ["conversions", "revenue"]].copy()
    if len(new):
        new["channel"] = BASELINE
        if "campaign" in keys:
            new["campaign"] = NONE_CHANNEL
        new["uncalibrated_conversions"] = 0.0
        out = pd.concat([out, new[[c for c in out.columns if c in new.columns]]], ignore_index=True)
    order = {m: i for i, m in enumerate(dict.fromkeys(table["model"]))}
    out = (out.assign(_m=out["model"].map(order)).sort_values(["_m"] + keys, kind="stable")
           .drop(columns="_m").reset_index(drop=True))
    for c in ["model"] + [k for k in keys if k != "period"]:
        out[c] = out[c].astype(object)
    return out


def _recompute(out: pd.DataFrame, group: list) -> pd.DataFrame:
    """``share`` and the KPI ratios from the (calibrated) sums of each row, never averaged."""
    total = out.groupby(group, sort=False)["conversions"].transform("sum").to_numpy(float)
    out["share"] = ratio(out["conversions"], total)
    for col, num, den in RATIO_COLUMNS:
        if col in out.columns:
            out[col] = ratio(out[num], out[den])
    if "roi" in out.columns:
        out["roi"] = ratio(out["revenue"].to_numpy(float) - out["spend"].to_numpy(float), out["spend"])
    return out


def check_run_options(input: str = "events", untested: str = "pool") -> str:
    """Fail fast on options calibration cannot use: a path table (no dates), an unknown ``untested`` choice."""
    if input == "paths":
        raise ParameterError(f"{option('experiments')} needs conversion dates, which a path table does not have; run it on an "
                             "event log.")
    return check_choice(f"{option('calibrate-untested')}", untested, UNTESTED)


class CalibrationWarning(UserWarning):
    """A test could not inform the calibration (the model gives its channel no credit in its window)."""


def calibrate(table, experiments, *, models=None, journeys: Journeys | None = None, events=None,
              untested: str = "pool", shrink_to: str = "pooled", per_model=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibrate every model's credit to experiments (see the module docstring for the rule).

    Parameters
    ----------
    table : pandas.DataFrame or attribution.runner.RunResult
        The run's table; a ``RunResult`` brings its ``models``, ``journeys`` and ``events`` too.
    experiments : str, path, pandas.DataFrame or Experiments
        ``channel, start, end, incremental_conversions[, se]``.
    models : sequence of fitted models
        The models of ``table`` (matched by their spec), with per-touch weights.
    journeys : Journeys
        The journeys they were fitted on (built from an event log).
    events : Events, optional
        The log, for its first and last timestamps (else the journeys' touches and conversions).
    untested : {"pool", "keep"}
        Channels without a test: partial pooling of the tested channels' factors, or unchanged.
    shrink_to : {"pooled", "one"}
        Prior mean of the tested channels' shrinkage: the pooled factor (1 with a single tested channel) or 1.
    per_model : sequence of Journeys, optional
        Each model's own journeys, aligned with ``models`` (a model with its own lookback,
        :func:`attribution.kpis.result.journeys_per_model`); default ``journeys`` for every model.

    Returns
    -------
    table : pandas.DataFrame
        Calibrated (:func:`apply_factors`).
    factors : pandas.DataFrame
        Per model × channel: ``model, channel, tests, credited, measured, raw_factor, se_factor, weight,
        calibration_factor``.

    Raises
    ------
    InputError
        For a bad experiment table, an unknown channel or a window outside the log.
    ParameterError
        Without journeys with times, or for a model without per-touch weights.

    Examples
    --------
    >>> from attribution.runner import run                                  # doctest: +SKIP
    >>> result = run("events.parquet", models=["linear"])                   # doctest: +SKIP
    >>> table, factors = calibrate(result, "lift.csv")                      # doctest: +SKIP
    """
    if hasattr(table, "table") and hasattr(table, "models"):
        models = table.models if models is None else models
        journeys = table.journeys if journeys is None else journeys
        events = table.events if events is None else events
        per_model = getattr(table, "model_journeys", None) if per_model is None else per_model
        table = table.table
    untested = check_choice("untested", untested, UNTESTED)
    shrink_to = check_choice("shrink_to", shrink_to, SHRINK_TO)
    exps = read_experiments(experiments)
    if journeys is None or not journeys.has_times or models is None:
        raise ParameterError("Calibration needs the fitted models and the journeys of an event log (their "
                             "conversion dates); pass models= and journeys= (or a RunResult of an in-memory run).")
    check_experiments(exps, journeys.channel_names, *log_span(journeys, events))

    frames = []
    for m, mine in zip(models, per_model or [journeys] * len(models)):
        spec = model_spec(m)
        credited = window_credit(m, mine, exps)
        _warn_uncredited(spec, exps, credited)
        tests = pd.DataFrame({"channel": exps.frame["channel"], "credited": credited,
                              "measured": exps.frame["incremental_conversions"], "se": exps.frame["se"]})
        rows = table.loc[table["model"] == spec, "channel"]
        channels = sorted(set(rows[~rows.isin(RESERVED)].astype(str)) | set(tests["channel"]))
        f = pool_factors(tests, channels, untested=untested, shrink_to=shrink_to)
        f.insert(0, "model", spec)
        frames.append(f)
    factors = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FACTOR_COLUMNS)
    factors["model"] = factors["model"].astype(object)
    return apply_factors(table, factors), factors


def log_span(journeys: Journeys, events=None) -> tuple[int, int]:
    """First and last timestamps of the log (UTC epoch ns): the events' when given, else the journeys'."""
    if events is not None and "timestamp" in events.column_names and events.num_rows:
        span = pc.min_max(events.column("timestamp")).as_py()  # validated: int64 UTC epoch ns
        if span["min"] is not None:
            return int(span["min"]), int(span["max"])
    times = [a for a in (journeys.touch_time, journeys.end_time) if a is not None and a.size]
    if not times:
        return 0, -1
    return int(min(a.min() for a in times)), int(max(a.max() for a in times))


def _warn_uncredited(spec: str, exps: Experiments, credited: np.ndarray) -> None:
    zero = np.flatnonzero(credited <= 0)
    if zero.size:
        i = int(zero[0])
        warnings.warn(
            f"the {spec!r} model credits {exps.frame['channel'].iloc[i]!r} with no conversion in the window of "
            f"{zero.size} test(s) (first at row {int(exps.frame['row'].iloc[i])} of {exps.file}): a factor cannot "
            "scale zero credit, so those tests are left out for this model.", CalibrationWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------------- simulated tests
def true_window_conversions(events: pd.DataFrame, truth, channel: str, start, end) -> float:
    """Conversions a channel truly caused in ``[start, end]`` (a date ``end`` covers its day) in a simulated log.

    ``truth.causes`` (:class:`attribution.sim.simulate.GroundTruth`) names the cause of every conversion row; the
    count of ``channel``'s in the window is what a perfect holdout of the channel would measure there (its
    removal effect with common random numbers, dated by the conversion).
    """
    lo, _ = to_epoch_ns(pa.array([pd.Timestamp(start).isoformat()]))
    hi, _ = to_epoch_ns(pa.array([pd.Timestamp(end).isoformat()]))
    stop = hi[0] + NS_PER_DAY if hi[0] % NS_PER_DAY == 0 else hi[0] + 1
    causes = truth.causes
    ts = events["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64)[causes["row"].to_numpy()]
    hit = (causes["cause"].to_numpy() == channel) & (ts >= lo[0]) & (ts < stop)
    return float(hit.sum())


def lift_tests_from_truth(events: pd.DataFrame, truth, tests, *, rel_se: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """Experiments on a simulated log: each test measures the true window count with normal noise.

    Parameters
    ----------
    events, truth
        A simulated log and its :class:`~attribution.sim.simulate.GroundTruth`.
    tests : sequence of (channel, start, end)
    rel_se : float
        Standard error of a test, relative to the true count (at least 1 conversion): ``se = max(1, rel_se · T)``.
    seed : int

    Returns
    -------
    pandas.DataFrame
        ``channel, start, end, incremental_conversions, se, true_conversions``; the measurement is
        ``max(0, T + se · z)`` with ``z`` standard normal (seeded), the truth ``T`` in its own column.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for channel, start, end in tests:  # a loop over tests
        true = true_window_conversions(events, truth, channel, start, end)
        se = max(1.0, rel_se * true)
        rows.append({"channel": channel, "start": str(start), "end": str(end),
                     "incremental_conversions": max(0.0, true + se * rng.standard_normal()), "se": se,
                     "true_conversions": true})
    return pd.DataFrame(rows)
