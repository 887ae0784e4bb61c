"""The KPI layer (SPEC 4): channel ROI tables from attributed credit, spend and journey statistics.

One row per model × channel (× period), columns in this order::

    model, channel, [campaign,] [period,] conversions, revenue, share, [removal_effect,]
    [spend, [media_spend,] roas, [media_roas,] roi, cpa,] [leads, [cpl,]]
    journeys, converting_journeys, win_rate, avg_days_to_convert, revenue_per_conversion

- ``spend`` … ``cpa`` appear with a spend table, ``media_spend``/``media_roas`` when it has cost types, ``leads``
  with a lead milestone (the first ``--milestone-event``), ``cpl`` with both.
- ``roas = revenue / spend``, ``roi = (revenue − spend) / spend``, ``cpa = spend / conversions``,
  ``cpl = spend / leads``, ``win_rate = converting_journeys / journeys``, ``revenue_per_conversion = revenue /
  conversions``, ``avg_days_to_convert`` = Σ days / Σ converting journeys. A zero denominator gives null
  (NaN), never ±inf. Every ratio is computed from the row's sums, never averaged over rows: a period row's
  ratios come from that period's sums.
- ``share`` is the row's share of its model's conversions (of that period, with ``--period``).
- The journey columns do not depend on the model: they are computed once, from the journeys of the run's lookback
  (:func:`journey_stats`, additive, so partition statistics merge by summing), and joined to every model's rows,
  also those of a model that declares its own lookback (``hazard`` sees the whole history): they describe the
  log as the run's lookback cuts it, the same for every model, while the credit columns are the model's own.
- The channel ``(none)`` (touchless conversions) has no spend: its ``spend`` is null, so are its ratios.
- A channel with spend and no credit (or absent from the log) still gets a row with 0 conversions.
- With ``by="campaign"`` (``--by campaign``) rows are channel × campaign: credit by the touch's campaign through
  the per-touch weights, journey statistics per distinct (journey, channel, campaign), spend by the spend table's
  ``campaign``; touches and spend rows without a campaign are under the campaign ``(none)``. Only combinations
  with credit, spend, leads or journeys get a row; they add up to the channel rows.
- With ``--period``, credit is dated by the conversion's UTC date through each model's per-touch weights, spend
  by its ``date``, journey statistics by the journey's end (its conversion, or its last touch when it did not
  convert), leads by the lead's date; ``removal_effect`` (a property of the whole log) repeats on every period
  row of its channel. Only (channel, period) pairs with credit, spend, leads or journeys get a row.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from attribution.kernels.encoding import unique_sorted
from attribution.exceptions import ParameterError, option
from attribution.journeys.pathoptions import apply_path_options
from attribution.journeys.journeys import BASELINE_CHANNEL as BASELINE, NONE_CHANNEL, Journeys
from attribution.io.spend import Spend, read_spend
from attribution.io.periods import check_choice, check_period, days_to_dates, period_of_ns
from attribution.kpis.result import journeys_per_model, model_spec
from attribution.kpis.summary import run_counts, warn_counts
from attribution.models.base import declared_extra_columns
from attribution.io.timeparse import NS_PER_DAY

JOURNEY_STAT_COLUMNS = ["journeys", "converting_journeys", "days_sum", "days_weight"]
JOURNEY_COLUMNS = ["journeys", "converting_journeys", "win_rate", "avg_days_to_convert"]


def ratio(num, den) -> np.ndarray:
    """num / den with null where den is 0 (or null), and where the quotient overflows (a denormal spend such as
    5e-324): never ±inf."""
    num = np.asarray(num, float)
    den = np.asarray(den, float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = np.isfinite(den) & (den != 0)
    with np.errstate(over="ignore"):  # an overflowing quotient is set to null just below
        np.divide(num, den, out=out, where=ok)
    out[~np.isfinite(out)] = np.nan
    return out


# ---------------------------------------------------------------------------------------------------- periods
def journey_periods(journeys: Journeys, period: str) -> np.ndarray:
    """Period start (epoch day) of every journey: the date of its conversion (or last touch if it did not convert)."""
    if journeys.end_time is None:
        raise ParameterError(
            f"{option('period')} needs conversion dates, which a path table does not have; run it on an event log."
        )
    return period_of_ns(journeys.end_time, period)


def touch_weights_of(model, journeys: Journeys) -> np.ndarray:
    """Per-touch weights of a fitted ``model`` on ``journeys`` (each converting journey's weights sum to 1).

    Raises
    ------
    ParameterError
        When the model has no per-touch weights (its credit cannot be dated or broken down by touch).
    """
    weights = model.touch_weights(journeys) if model.has_touch_weights() else None
    if weights is None:
        raise ParameterError(
            f"The {model_spec(model)!r} model gives no per-touch weights, so its credit cannot be dated "
            f"({option('period')}) or broken down by touch (--detail). Leave that model out for these options."
        )
    return np.asarray(weights, float)


BY = ("campaign",)


def check_by(by: str | None) -> str | None:
    """Validate a ``--by`` value (None = one row per channel)."""
    return check_choice(f"{option('by')}", by, BY)


def touch_groups(journeys: Journeys, by: str | None = None) -> tuple[np.ndarray, int]:
    """The group code of every touch (the channel, or channel × campaign with ``by="campaign"``) and the number
    of codes; :func:`group_labels` turns codes back into key columns. Code -1 is reserved for touchless journeys.
    """
    if by is None:
        return journeys.touch_channel, journeys.n_channels
    if journeys.touch_campaign is None or journeys.campaign_names is None:
        raise ParameterError(f"{option('by', 'campaign')} needs a 'campaign' column in the event log (map it with "
                             f"{option('column', 'campaign=YOUR_COLUMN')}).")
    k = len(journeys.campaign_names) + 1  # slot 0: touches without a campaign
    return journeys.touch_channel * np.int64(k) + (journeys.touch_campaign + 1), journeys.n_channels * k


def group_labels(journeys: Journeys, codes: np.ndarray, by: str | None = None) -> dict[str, pd.Series]:
    """Key columns (``channel`` [, ``campaign``]) of group codes; -1 (touchless) is ``(none)`` in each."""
    codes = np.asarray(codes, np.int64)
    channels = np.r_[np.array([NONE_CHANNEL], dtype=object), np.asarray(journeys.channel_names, dtype=object)]
    if by is None:
        return {"channel": pd.Series(channels[codes + 1], dtype=object)}
    k = len(journeys.campaign_names) + 1
    campaigns = np.r_[np.array([NONE_CHANNEL], dtype=object), np.asarray(journeys.campaign_names, dtype=object)]
    touchless = codes < 0
    ch = np.where(touchless, -1, codes // k)
    cp = np.where(touchless, 0, codes % k)
    return {"channel": pd.Series(channels[ch + 1], dtype=object), "campaign": pd.Series(campaigns[cp], dtype=object)}


def touch_credit(model, journeys: Journeys, period: str | None = None, by: str | None = None) -> pd.DataFrame:
    """A model's credit per channel (× campaign) (× period of the conversion), from its per-touch weights.

    Returns ``channel`` [, ``campaign``] [, ``period`` (epoch day)], ``conversions, revenue`` plus the model's extra
    columns (per channel); touchless conversions go to ``(none)``. Summed over the extra keys it equals the model's
    ``attribution_``. Every value column adds up over user-disjoint partitions.
    """
    weights = touch_weights_of(model, journeys)
    codes, _ = touch_groups(journeys, by)
    tj = journeys.touch_journey
    live = (journeys.conversions[tj] != 0) | (journeys.revenue[tj] != 0)
    tj = tj[live]
    w = weights[live]
    cols = {"code": codes[live], "conversions": w * journeys.conversions[tj], "revenue": w * journeys.revenue[tj]}
    empty = journeys.touchless() & ((journeys.conversions != 0) | (journeys.revenue != 0))
    none = {"code": np.full(int(empty.sum()), -1, np.int64), "conversions": journeys.conversions[empty],
            "revenue": journeys.revenue[empty]}
    keys = ["code"]
    if period is not None:
        jp = journey_periods(journeys, period)
        cols["period"] = jp[tj]
        none["period"] = jp[empty]
        keys.append("period")
    frame = pd.DataFrame(cols)
    if len(none["code"]):
        frame = pd.concat([frame, pd.DataFrame(none)], ignore_index=True)
    out = frame.groupby(keys, sort=True, as_index=False)[["conversions", "revenue"]].sum()
    labels = group_labels(journeys, out.pop("code").to_numpy(), by)
    for i, (name, values) in enumerate(labels.items()):
        out.insert(i, name, values.to_numpy())
        out[name] = out[name].astype(object)
    out = _baseline_rows(model, journeys, out, tj, w, period, list(labels))
    extras = extras_in(model.attribution_)
    if extras:
        out = out.merge(model.attribution_[["channel"] + extras], on="channel", how="left")
    return out


def _baseline_rows(model, journeys: Journeys, out: pd.DataFrame, tj, w, period, keys) -> pd.DataFrame:
    """For a model with a ``(baseline)`` row (conversions no channel caused): what a converting journey's touch
    weights leave (1 − Σ weights) goes to ``(baseline)``, so that per-period and per-campaign credit still adds up
    to the model's totals."""
    fitted = model.attribution_
    if BASELINE not in set(fitted["channel"].astype(str)):
        return out
    touched = journeys.lengths > 0
    live = touched & ((journeys.conversions != 0) | (journeys.revenue != 0))
    rest = 1.0 - np.bincount(tj, w, minlength=journeys.n_journeys)
    rows = np.flatnonzero(live)
    frame = pd.DataFrame({k: BASELINE if k == "channel" else NONE_CHANNEL for k in keys}, index=range(len(rows)))
    if period is not None:
        frame["period"] = journey_periods(journeys, period)[rows]
    frame["conversions"] = journeys.conversions[rows] * rest[rows]
    frame["revenue"] = journeys.revenue[rows] * rest[rows]
    group = keys + (["period"] if period is not None else [])
    frame = frame.groupby(group, sort=True, as_index=False)[["conversions", "revenue"]].sum()
    both = pd.concat([out, frame], ignore_index=True)
    for k in keys:
        both[k] = both[k].astype(object)
    return both.sort_values(group, kind="stable", ignore_index=True)


def period_credit(model, journeys: Journeys, period: str) -> pd.DataFrame:
    """A model's credit per channel and period (the conversion's period), from its per-touch weights.

    Returns ``channel, period (epoch day), conversions, revenue`` plus the model's extra columns (repeated per
    period); touchless conversions go to ``(none)``. Summed over periods it equals the model's ``attribution_``.
    """
    return touch_credit(model, journeys, period)


# ---------------------------------------------------------------------------------------------------- journeys
def journey_code_masks(journeys: Journeys, codes: np.ndarray, n_codes: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The journeys with touches, and for each a mask of the codes (< ``n_codes`` ≤ 64, one per touch) its
    touches hold: one ``bitwise_or.reduceat`` over the touches, on the narrowest unsigned integer with a bit per
    code (8, 16, 32 or 64 bits: the fewer bytes per touch, the less memory each pass moves)."""
    nonempty = np.flatnonzero(journeys.lengths > 0)
    table = _CODE_BITS[mask_dtype(n_codes)]
    bits = table[codes]  # one gather, no 64-bit copy of the codes
    starts = journeys.offsets[:-1]
    if len(nonempty) < journeys.n_journeys:
        starts = starts[nonempty]
    return nonempty, np.bitwise_or.reduceat(bits, starts) if len(starts) else bits[:0]


def mask_dtype(n_codes: int) -> np.dtype:
    """The narrowest little-endian unsigned integer type with a bit for each of ``n_codes`` (≤ 64) codes."""
    return next(np.dtype(f"<u{k}") for k in (1, 2, 4, 8) if n_codes <= 8 * k)


#: ``1 << c`` of every code c below the type's width, per mask type of :func:`mask_dtype`
_CODE_BITS = {np.dtype(f"<u{k}"): np.left_shift(np.ones(1, f"<u{k}"), np.arange(8 * k, dtype=f"<u{k}"))
              for k in (1, 2, 4, 8)}


def journey_code_pairs(journeys: Journeys, codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (journey, code) pairs of the touches (``codes`` one per touch, in ``[0, n_codes)``).

    Up to 64 codes, each journey's codes are OR-ed into one 64-bit mask (one ``bitwise_or.reduceat``) and read
    back code by code; beyond that, the pairs are the distinct values of ``journey × n_codes + code``.
    Returned as (journeys, codes), ordered by code then journey in the first case, by journey then code in the
    second.
    """
    if not journeys.n_touches:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if n_codes > 64:
        pairs = unique_sorted(journeys.touch_journey * np.int64(n_codes + 1) + codes)
        return pairs // (n_codes + 1), pairs % (n_codes + 1)
    nonempty, masks = journey_code_masks(journeys, codes, n_codes)
    jj, cc = [], []
    for c in range(n_codes):
        with_c = nonempty[(masks & masks.dtype.type(1 << c)) != 0]
        jj.append(with_c)
        cc.append(np.full(len(with_c), c, np.int64))
    return np.concatenate(jj), np.concatenate(cc)


def journey_stats(journeys: Journeys, period: str | None = None, by: str | None = None) -> pd.DataFrame:
    """Additive journey statistics per channel (and period): the model-independent KPI inputs.

    Columns: ``channel`` [, ``period``] (keys), ``journeys`` (journeys with a touch of the channel, counted with
    their weight conversions + nulls), ``converting_journeys`` (Σ conversions of those journeys),
    ``days_sum`` (Σ conversions × days from the journey's first touch to its conversion) and ``days_weight``
    (Σ conversions of the journeys where that is known). Touchless journeys count under ``(none)``.

    Every non-key column is a sum over journeys, so the frames of user-disjoint partitions merge by
    concatenating and summing per key (:func:`merge_journey_stats`); :func:`finalise_journey_stats` turns the
    sums into the report's columns. Vectorised: per-journey channel bitmasks (up to 64 channels, no period), else
    the distinct (journey, channel) pairs.
    """
    codes, C = touch_groups(journeys, by)
    weight = journeys.conversions + journeys.nulls
    days = np.zeros(journeys.n_journeys)
    known = np.zeros(journeys.n_journeys, bool)
    if journeys.has_times and journeys.n_journeys:
        nonempty = journeys.lengths > 0
        first = np.zeros(journeys.n_journeys, np.int64)
        first[nonempty] = journeys.touch_time[journeys.offsets[:-1][nonempty]]
        days[nonempty] = (journeys.end_time[nonempty] - first[nonempty]) / NS_PER_DAY
        known = nonempty & (journeys.conversions > 0)
    if period is None and C <= 64:
        out = _channel_sums_by_bitmask(journeys, codes, C, [
            weight, journeys.conversions, np.where(known, journeys.conversions * days, 0.0),
            np.where(known, journeys.conversions, 0.0)])
        return _with_labels(out, journeys, by)
    jj, cc = journey_code_pairs(journeys, codes, C)
    empty = np.flatnonzero(journeys.touchless())
    jj = np.r_[jj, empty].astype(np.int64)
    cc = np.r_[cc, np.full(len(empty), -1, np.int64)]
    conv = journeys.conversions[jj]
    cols = {
        "code": cc,
        "journeys": weight[jj],
        "converting_journeys": conv,
        "days_sum": np.where(known[jj], conv * days[jj], 0.0),
        "days_weight": np.where(known[jj], conv, 0.0),
    }
    keys = ["code"]
    if period is not None:
        cols["period"] = journey_periods(journeys, period)[jj]
        keys.append("period")
    if period is None:  # one key with few values: per-key sums by bincount (same frame as the groupby below)
        slot = cc + 1
        present = np.flatnonzero(np.bincount(slot, minlength=C + 1))
        sums = {c: np.bincount(slot, weights=cols[c], minlength=C + 1)[present] for c in JOURNEY_STAT_COLUMNS}
        out = pd.DataFrame({"code": present - 1, **sums})
    else:
        out = pd.DataFrame(cols).groupby(keys, sort=True, as_index=False)[JOURNEY_STAT_COLUMNS].sum()
    return _with_labels(out, journeys, by)


def _with_labels(out: pd.DataFrame, journeys: Journeys, by: str | None) -> pd.DataFrame:
    labels = group_labels(journeys, out.pop("code").to_numpy(), by)
    for i, (name, values) in enumerate(labels.items()):
        out.insert(i, name, values.to_numpy())
        out[name] = out[name].astype(object)
    return out


def _channel_sums_by_bitmask(journeys: Journeys, codes: np.ndarray, n_codes: int, values: list) -> pd.DataFrame:
    """Σ ``values`` (one array per column of :data:`JOURNEY_STAT_COLUMNS`, one entry per journey) over the journeys
    holding each code (up to 64), and over the touchless ones (code -1): each journey's codes OR-ed into one mask
    (:func:`journey_code_masks`), then one pass per byte of the masks: the values are summed per byte value (256
    bins), and each code of that byte adds up the bins whose bit it is. A column of zeros sums to zeros without a
    pass. Codes no journey holds are left out (as the pairs' sums leave them out)."""
    sums = np.zeros((n_codes + 1, len(values)))
    count = np.zeros(n_codes + 1, np.int64)
    touchless = journeys.touchless()
    count[0] = int(touchless.sum())
    sums[0] = np.column_stack([v[touchless] for v in values]).sum(axis=0)
    if journeys.n_touches:
        nonempty, masks = journey_code_masks(journeys, codes, n_codes)
        held = [v if len(nonempty) == len(v) else v[nonempty] for v in values]
        nonzero = [bool(v.any()) for v in held]
        byte_values = np.arange(256, dtype=np.uint16)
        as_bytes = masks.view(np.uint8).reshape(len(masks), masks.dtype.itemsize)  # little-endian: byte b first
        for b in range(-(-n_codes // 8)):
            byte = as_bytes[:, b].astype(np.intp)
            n_bin = np.bincount(byte, minlength=256)
            bins = np.stack([np.bincount(byte, v, minlength=256) if nz else np.zeros(256)
                             for v, nz in zip(held, nonzero)], axis=1)
            for c in range(8 * b, min(8 * b + 8, n_codes)):
                has = ((byte_values >> (c - 8 * b)) & 1).astype(bool)
                count[c + 1] = int(n_bin[has].sum())
                sums[c + 1] = bins[has].sum(axis=0)
    present = np.flatnonzero(count)
    return pd.DataFrame({"code": present - 1, **{c: sums[present, i] for i, c in enumerate(JOURNEY_STAT_COLUMNS)}})


def merge_journey_stats(frames) -> pd.DataFrame:
    """Merge :func:`journey_stats` frames of user-disjoint partitions (sum per channel [, period])."""
    frames = [f for f in frames if f is not None]
    both = pd.concat(frames, ignore_index=True)
    keys = [k for k in ("channel", "campaign", "period") if k in both.columns]
    out = both.groupby(keys, sort=True, as_index=False)[JOURNEY_STAT_COLUMNS].sum()
    out["channel"] = out["channel"].astype(object)
    return out


def finalise_journey_stats(stats: pd.DataFrame) -> pd.DataFrame:
    """``journeys, converting_journeys, win_rate, avg_days_to_convert`` from (merged) journey statistics."""
    keys = [k for k in ("channel", "campaign", "period") if k in stats.columns]
    out = stats[keys].copy()
    out["journeys"] = stats["journeys"].to_numpy(float)
    out["converting_journeys"] = stats["converting_journeys"].to_numpy(float)
    out["win_rate"] = ratio(stats["converting_journeys"], stats["journeys"])
    out["avg_days_to_convert"] = ratio(stats["days_sum"], stats["days_weight"])
    return out


# ---------------------------------------------------------------------------------------------------- report
def extras_in(frame: pd.DataFrame) -> list[str]:
    """The declared extra output columns (:func:`declared_extra_columns`, e.g. ``removal_effect``) that ``frame``
    holds, in output order."""
    return [c for c in declared_extra_columns() if c in frame.columns]


def model_credit(model, journeys: Journeys, period: str | None = None, by: str | None = None) -> pd.DataFrame:
    """A fitted model's credit: its ``attribution_`` per channel, else :func:`touch_credit` (period, campaign)."""
    if period is None and by is None:
        return model.attribution_.copy()
    return touch_credit(model, journeys, period, by)


def report_frame(
    credits: Sequence[tuple[str, pd.DataFrame]],
    *,
    journey_stats: pd.DataFrame | None = None,
    spend: pd.DataFrame | None = None,
    leads: Sequence[pd.DataFrame | None] | None = None,
    period: str | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Assemble the KPI table from additive pieces (the finalise step every engine shares).

    Parameters
    ----------
    credits : sequence of (spec, frame)
        Per model, in output order: ``channel`` [, ``period``], ``conversions``, ``revenue`` [, extras].
    journey_stats : pandas.DataFrame, optional
        Merged :func:`journey_stats` (same period keys).
    spend : pandas.DataFrame, optional
        Spend per ``channel`` [, ``period``] (:meth:`Spend.by_channel`): ``spend`` [, ``media_spend``].
    leads : sequence of frames or None, optional
        Per model (aligned with ``credits``): ``channel`` [, ``period``], ``conversions`` of the lead model.
    period : str, optional
        The period the frames are keyed by (their ``period`` column holds epoch day numbers).
    by : {"campaign"}, optional
        The frames are also keyed by ``campaign`` (rows: model × channel × campaign [× period]).
    """
    keys = ["channel"] + (["campaign"] if by is not None else []) + (["period"] if period is not None else [])
    sparse = period is not None or by is not None  # only key combinations with something to report
    jstats = finalise_journey_stats(journey_stats) if journey_stats is not None else None
    extras = _all_extras(credits)
    frames = [_model_rows(spec, credit, keys, extras, sparse, spend=spend, jstats=jstats,
                          lead=leads[i] if leads is not None else None, period=period)
              for i, (spec, credit) in enumerate(credits)]
    if not frames:
        return pd.DataFrame({"model": pd.Series(dtype=object), "channel": pd.Series(dtype=object)})
    return _typed(pd.concat(frames, ignore_index=True), period, by)


def _model_rows(spec: str, credit: pd.DataFrame, keys: list[str], extras: list[str], sparse: bool, *, spend, jstats,
                lead, period) -> pd.DataFrame:
    """One model's rows of the KPI table: credit, share, extras, then the spend, lead and journey columns."""
    f = _credit_rows(credit, keys, extras, sparse, [spend, jstats, lead])
    if period is not None:
        total = f.groupby("period")["conversions"].transform("sum").to_numpy(float)
    else:
        total = np.full(len(f), float(f["conversions"].sum()))
    f["share"] = ratio(f["conversions"], total)
    out = f[keys + ["conversions", "revenue", "share"] + extras].copy()
    if spend is not None:
        _add_spend_columns(out, f, spend, keys)
    if lead is not None:
        lv = f[keys].merge(lead[keys + ["conversions"]].rename(columns={"conversions": "leads"}), on=keys,
                           how="left")
        out["leads"] = lv["leads"].fillna(0.0).to_numpy(float)
        if spend is not None:
            out["cpl"] = ratio(out["spend"], out["leads"])
    if jstats is not None:
        j = f[keys].merge(jstats, on=keys, how="left")
        out["journeys"] = j["journeys"].fillna(0.0).to_numpy(float)
        out["converting_journeys"] = j["converting_journeys"].fillna(0.0).to_numpy(float)
        out["win_rate"] = j["win_rate"].to_numpy(float)
        out["avg_days_to_convert"] = j["avg_days_to_convert"].to_numpy(float)
    out["revenue_per_conversion"] = ratio(out["revenue"], out["conversions"])
    out.insert(0, "model", spec)
    return out


def _credit_rows(credit: pd.DataFrame, keys: list[str], extras: list[str], sparse: bool, others) -> pd.DataFrame:
    """One model's credit rows over every key combination its credit, the spend, the journey statistics and the
    lead credit report (``others``: each frame or ``None``; in ``sparse`` tables only combinations with something
    to report), sorted by the keys; the model-level extras (removal effect) on every row of their channel."""
    spend, jstats, lead = others
    f = credit[keys + ["conversions", "revenue"] + [c for c in extras if c in credit.columns]].copy()
    for c in extras:
        if c not in f.columns:
            f[c] = np.nan
    if sparse:
        f = f[(f["conversions"] != 0) | (f["revenue"] != 0)]
    frames = []
    if spend is not None:
        frames.append(spend[keys])
    if jstats is not None:
        frames.append(jstats.loc[jstats["journeys"] != 0, keys] if sparse else jstats[keys])
    if lead is not None:
        frames.append(lead.loc[lead["conversions"] != 0, keys] if sparse else lead[keys])
    if frames:
        universe = pd.concat([f[keys]] + frames, ignore_index=True).drop_duplicates()
        f = universe.merge(f, on=keys, how="left")
        f[["conversions", "revenue"]] = f[["conversions", "revenue"]].fillna(0.0)
        if extras:
            have = [c for c in extras if c in credit.columns]
            filled = credit[["channel"] + have].drop_duplicates("channel")
            f = f.drop(columns=extras).merge(filled, on="channel", how="left")
            for c in extras:
                if c not in f.columns:
                    f[c] = np.nan
    return f.sort_values(keys, kind="stable", ignore_index=True)


def _add_spend_columns(out: pd.DataFrame, f: pd.DataFrame, spend: pd.DataFrame, keys: list[str]) -> None:
    """Spend [, media spend], ROAS [, media ROAS], ROI and CPA (no spend on the touchless row)."""
    s = f[keys].merge(spend, on=keys, how="left")
    none = (f["channel"] == NONE_CHANNEL).to_numpy()
    for col in [c for c in ("spend", "media_spend") if c in spend.columns]:
        vals = s[col].fillna(0.0).to_numpy(float)
        out[col] = np.where(none, np.nan, vals)
    rev = out["revenue"].to_numpy(float)
    out.insert(out.columns.get_loc("spend") + (2 if "media_spend" in out.columns else 1), "roas",
               ratio(rev, out["spend"]))
    if "media_spend" in out.columns:
        out.insert(out.columns.get_loc("roas") + 1, "media_roas", ratio(rev, out["media_spend"]))
    out["roi"] = ratio(rev - out["spend"].to_numpy(float), out["spend"])
    out["cpa"] = ratio(out["spend"], out["conversions"])


def _typed(table: pd.DataFrame, period: str | None, by: str | None) -> pd.DataFrame:
    """The KPI table's column types: keys as objects, periods as dates, every value column float."""
    table["model"] = table["model"].astype(object)
    table["channel"] = table["channel"].astype(object)
    if by is not None:
        table["campaign"] = table["campaign"].astype(object)
    if period is not None:
        table["period"] = days_to_dates(table["period"].to_numpy(np.int64))
    for c in table.columns:
        if c not in ("model", "channel", "campaign", "period"):
            table[c] = table[c].astype(float)
    return table


def _all_extras(credits) -> list[str]:
    return [c for c in declared_extra_columns() if any(c in frame.columns for _, frame in credits)]


def lead_journeys_from(events, journeys: Journeys, lead_event: str) -> Journeys:
    """Journeys closed by the lead milestone instead of the conversion (same lookback)."""
    leads = Journeys.from_events(events, conversion_events=(lead_event,), lookback_days=journeys.lookback_days,
                                 milestone_events=journeys.meta.get("milestone_events", ()))
    return apply_path_options(leads, journeys.meta.get("path_options"))


def fresh_model(model):
    """An unfitted copy of ``model`` (same parameters, same spec) to attribute leads with."""
    return model.clone()


def channel_report(
    models: Sequence,
    journeys: Journeys,
    *,
    spend=None,
    period: str | None = None,
    lead_models: Sequence | None = None,
    lead_journeys: Journeys | None = None,
    by: str | None = None,
    per_model: Sequence[Journeys] | None = None,
    lead_per_model: Sequence[Journeys] | None = None,
) -> pd.DataFrame:
    """The KPI table of fitted ``models`` on ``journeys`` (SPEC 4); see the module docstring for the columns.

    Parameters
    ----------
    models : sequence of fitted models
    journeys : Journeys
    spend : Spend, optional
        A validated spend table (:func:`attribution.io.spend.read_spend`), summed once per channel (and period).
    period : {"day", "week", "month"}, optional
    lead_models : sequence of models fitted on ``lead_journeys``, aligned with ``models``, optional
    lead_journeys : Journeys, optional
    by : {"campaign"}, optional
        Also break the rows down by the touch's campaign (spend by the spend table's ``campaign``).
    per_model, lead_per_model : sequence of Journeys, optional
        Each model's (lead model's) own journeys, aligned with ``models``
        (:func:`attribution.kpis.result.journeys_per_model`); default ``journeys`` (``lead_journeys``) for all.
        The journey columns come from ``journeys`` whatever they are.

    References
    ----------
    .. [1] SPEC 4; ROAS, ROI, CPA and CPL as in the REFERENCES "KPI conventions" (ratios from summed
       numerators and denominators, never averaged).
    """
    period = check_period(period)
    by = check_by(by)
    spend_frame = spend.by_channel(period, by=by) if spend is not None else None
    per_model = per_model or [journeys] * len(models)
    credits = [(model_spec(m), model_credit(m, j, period, by)) for m, j in zip(models, per_model)]
    leads = None
    if lead_models is not None:
        lead_per_model = lead_per_model or [lead_journeys] * len(lead_models)
        leads = [model_credit(m, j, period, by) for m, j in zip(lead_models, lead_per_model)]
    return report_frame(credits, journey_stats=journey_stats(journeys, period, by), spend=spend_frame, leads=leads,
                        period=period, by=by)


def kpi_inputs(spend=None, spend_columns=None, period=None, milestone_events=(), options=None, by=None, csv=None):
    """Check the KPI options and read the spend table before the (long) event read: fail fast.

    Returns
    -------
    spend : Spend or None
    period : str or None
    """
    period = check_period(period)
    by = check_by(by)
    options = options or {}
    if options.get("input", "events") == "paths":
        if by is not None:
            raise ParameterError(f"{option('by', 'campaign')} needs an event log (a path table has no campaigns).")
        if period is not None:
            raise ParameterError(f"{option('period')} needs conversion dates, which a path table does not have; "
                                 "run it on an event log.")
        if milestone_events:
            raise ParameterError(f"{option('milestone-event')} needs an event log (a path table has no milestones).")
    table = None
    if spend is not None:
        table = spend if isinstance(spend, Spend) else read_spend(spend, columns=spend_columns, csv=csv)
        if period is not None or by is not None:
            table.by_channel(period, by=by)  # raises when the spend has no dates (or no campaigns)
    return table, period


def fit_leads(fitted, lead_per_model, lead_event: str) -> list:
    """Fresh copies of the ``fitted`` models, each fitted on its journeys closed by the lead milestone
    (``lead_per_model``, aligned with ``fitted``: of each model's own lookback); a model's warnings say they are
    about the leads."""
    with warnings.catch_warnings(record=True) as caught:  # say which fit a model's warning is about
        warnings.simplefilter("always")
        lead_models = [fresh_model(m).fit(j) for m, j in zip(fitted, lead_per_model)]
    for w in caught:
        warnings.warn(f"attributing leads ({lead_event!r}): {w.message}", w.category, stacklevel=3)
    return lead_models


def kpi_table(fitted, journeys: Journeys, events=None, *, spend=None, period=None, milestone_events=(), by=None,
              per_model=None):
    """The KPI table of fitted models on an event log's journeys, attributing the lead milestone with a fresh copy
    of every model when one is given; warns as a run does (:func:`attribution.kpis.summary.warn_counts`).

    ``per_model``: each fitted model's own journeys (:func:`attribution.kpis.result.journeys_per_model`), default
    ``journeys`` for all; the lead models then get lead journeys of the same lookbacks.

    Returns
    -------
    table : pandas.DataFrame
    lead_models : list or None
    lead_journeys : Journeys or None
    """
    lead_models = lead_journeys = lead_per_model = None
    milestone_events = [str(m) for m in (milestone_events or ())]
    lead = milestone_events[0] if milestone_events and events is not None else None
    if lead is not None:
        lead_journeys = lead_journeys_from(events, journeys, lead)
        lead_per_model = journeys_per_model(lead_journeys, fitted, events)
    if events is not None:
        warn_counts(run_counts(events, journeys, lead_journeys=lead_journeys), lead_event=lead, spend=spend)
    if lead is not None:
        lead_models = fit_leads(fitted, lead_per_model, lead)
    table = channel_report(fitted, journeys, spend=spend, period=period, lead_models=lead_models,
                           lead_journeys=lead_journeys, by=by, per_model=per_model, lead_per_model=lead_per_model)
    return table, lead_models, lead_journeys
