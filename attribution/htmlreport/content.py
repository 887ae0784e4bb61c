"""What a report shows, computed once from one run: the tables and frames the sections and charts read."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from attribution.kpis.compare import channel_totals, compare_table
from attribution.exceptions import ParameterError, option
from attribution.io.periods import check_period
from attribution.journeys.journeys import NONE_CHANNEL
from attribution.kpis.funnel import funnel_frame
from attribution.kpis.pathstats import path_length_distribution, time_lag_distribution, top_paths
from attribution.kpis.report import kpi_table
from attribution.runner import run


@dataclass
class ReportContent:
    """Everything a report section reads (see :func:`gather`).

    Attributes
    ----------
    result : attribution.runner.RunResult
    primary : str
        The model whose channel table, trend and paths the report leads with.
    totals : pandas.DataFrame
        :func:`attribution.kpis.compare.channel_totals` of the run's table, touchless conversions kept as ``(none)``
        (with a null share: shares are over the real channels, as in the comparison).
    comparison : pandas.DataFrame
        :func:`attribution.kpis.compare.compare_table` (real channels).
    trend : pandas.DataFrame or None
        The primary model's table cut by ``period``.
    funnel, lengths, lags, paths : pandas.DataFrame or None
        Funnel summary, path-length and time-lag distributions, top paths.
    markov : fitted Markov model or None
    settings : list of (str, str)
    notes : dict of str to str
        Why a section is left out, by section name.
    """

    result: object
    primary: str
    totals: pd.DataFrame
    comparison: pd.DataFrame
    trend: pd.DataFrame | None = None
    funnel: pd.DataFrame | None = None
    lengths: pd.DataFrame | None = None
    lags: pd.DataFrame | None = None
    paths: pd.DataFrame | None = None
    markov: object = None
    settings: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    @property
    def has_spend(self) -> bool:
        return "spend" in self.totals.columns

    @property
    def has_intervals(self) -> bool:
        return "conversions_lo" in self.totals.columns

    def headline(self) -> dict:
        """Conversions, revenue, spend and blended ROAS (revenue / spend) of the run, plus journeys."""
        rows = self.totals[self.totals["model"] == self.primary]
        summary = self.result.summary
        out = {"conversions": float(summary.get("conversions", rows["conversions"].sum())),
               "revenue": float(summary.get("revenue", rows["revenue"].sum())),
               "journeys": float(summary.get("journeys", np.nan)),
               "touchless": float(summary.get("touchless_conversions", 0.0))}
        if self.has_spend:
            spend = float(rows["spend"].sum())
            out["spend"] = spend
            out["roas"] = out["revenue"] / spend if spend > 0 else np.nan
        return out


def gather(sources, *, models=None, spend=None, spend_columns=None, milestone_events=(), period="month",
           ci=None, n_boot=200, seed=0, lookback_days="30", conversion_events=("conversion",), columns=None,
           on_bad_rows="error", top=10, progress=None) -> ReportContent:
    """Run the models once and compute every table of the report.

    Parameters
    ----------
    sources : str, path or list
        Event-log files (the report needs an event log: dates, users and funnel events).
    models : list of str, optional
        Model specs; default: every heuristic model and ``markov``. The primary model is the first one given,
        or ``markov`` with the default list.
    spend, spend_columns, milestone_events, ci, n_boot, seed, lookback_days, conversion_events, columns,
    on_bad_rows
        As for :func:`attribution.runner.run`.
    period : {"day", "week", "month"} or None
        The trend's period (None: no trend section).
    top : int
        How many paths the top-paths section lists.

    Returns
    -------
    ReportContent
    """
    period = check_period(period)
    result = run(sources, models=models, spend=spend, spend_columns=spend_columns,
                 milestone_events=tuple(milestone_events), ci=ci, n_boot=n_boot, seed=seed,
                 lookback_days=lookback_days, conversion_events=tuple(conversion_events), columns=columns,
                 on_bad_rows=on_bad_rows, progress=progress, engine="local", memory_limit=None)
    specs = list(dict.fromkeys(result.table["model"].astype(str)))
    primary = specs[0] if models else ("markov" if "markov" in specs else specs[0])
    totals = channel_totals(result.table, touchless=True).drop(columns="share")
    shares = channel_totals(result.table)[["model", "channel", "share"]]  # over real channels, as compared
    totals = totals.merge(shares, on=["model", "channel"], how="left")
    content = ReportContent(result, primary, totals, compare_table(result.table))
    content.markov = next((m for m, s in zip(result.models, specs) if getattr(m, "removal_effects_", None)
                           is not None), None)
    if content.markov is None:
        content.notes["markov"] = f"No Markov model in this run: add {option('model', 'markov')} for its removal effects."
    if result.journeys is None:
        content.notes["journeys"] = "A partitioned run keeps no journeys: path and funnel sections left out."
        return content
    fitted = result.models[specs.index(primary)]
    if period is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                content.trend = kpi_table([fitted], result.journeys, result.events, spend=result.spend,
                                          period=period, per_model=[result.journeys_of(fitted)])[0]
        except ParameterError as exc:
            content.notes["trend"] = str(exc)
    else:
        content.notes["trend"] = f"No period chosen ({option('period', 'day')}, week or month draws the trend)."
    _journey_sections(content, result, milestone_events, conversion_events, top)
    return content


def _journey_sections(content: ReportContent, result, milestone_events, conversion_events, top: int) -> None:
    journeys = result.journeys
    content.lengths = path_length_distribution(journeys, max_length=15)
    content.paths = top_paths(journeys, n=top)
    if journeys.has_times:
        content.lags = time_lag_distribution(journeys)
    if result.events is not None:
        content.funnel = funnel_frame(result.events, milestone_events=tuple(milestone_events),
                                      conversion_events=tuple(conversion_events))


def channel_rows(content: ReportContent, model: str) -> pd.DataFrame:
    """One model's channel table for the report: real channels by conversions, then ``(none)``."""
    rows = content.totals[content.totals["model"] == model]
    real = rows[rows["channel"] != NONE_CHANNEL].sort_values(["conversions", "channel"], ascending=[False, True],
                                                                kind="stable")
    return pd.concat([real, rows[rows["channel"] == NONE_CHANNEL]], ignore_index=True)
