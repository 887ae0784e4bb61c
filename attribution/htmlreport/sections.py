"""The report's sections, each from :class:`~attribution.htmlreport.content.ReportContent`: charts and tables
with a two-line "how to read this"."""

from __future__ import annotations

import numpy as np

from attribution.journeys.journeys import NONE_CHANNEL

from attribution.htmlreport.content import ReportContent, channel_rows
from attribution.htmlreport.page import cards, esc, image, note, number, section, settings_list, table
from attribution.exceptions import option
from attribution.plotting import (
    chart_bytes, plot_funnel, plot_kpi_trend, plot_model_comparison, plot_path_lengths, plot_removal_effects,
    plot_roi, plot_time_lags, plot_top_paths, plot_transition_graph,
)

DPI = 100


def _chart(draw, figsize, alt: str, **kwargs) -> str:
    """Draw a chart on a figure of its own (no pyplot: no global state, no window) and inline it."""
    from matplotlib.figure import Figure

    ax = Figure(figsize=figsize).subplots()
    draw(ax=ax, **kwargs)
    return image(chart_bytes(ax, "png", DPI), alt)


def headline(c: ReportContent) -> str:
    h = c.headline()
    items = [("Conversions", number(h["conversions"]), f"{number(h['touchless'])} without any touch"),
             ("Revenue", number(h["revenue"], "money"), f"{number(h['journeys'])} journeys")]
    if c.has_spend:
        items += [("Spend", number(h["spend"], "money"), "from the spend table"),
                  ("Blended ROAS", number(h["roas"], "ratio"), "revenue per unit of spend")]
    return cards(items)


def comparison(c: ReportContent) -> str:
    models = list(dict.fromkeys(c.result.table["model"].astype(str)))
    body = _chart(plot_model_comparison, (11.0, 4.6), "Share of conversions by channel and model",
                  table=c.result.table)
    wide = c.comparison
    kinds = {"channel": ("Channel", "text"), **{f"share_{m}": (m, "percent") for m in models},
             "spread": ("Spread", "percent")}
    body += table(wide, kinds)
    ci = " Thin bars on each column show the interval." if c.has_intervals else ""
    return section("Model comparison", (
        "Each model splits the same conversions between channels differently; a channel all models rate alike is "
        "a safe bet, a large spread means the answer depends on the model." + ci,
        "Shares are of the conversions credited to channels (conversions without any marketing touch are left "
        "out); spread = largest − smallest share."), body, "comparison")


def channel_table(c: ReportContent) -> str:
    models = list(dict.fromkeys(c.result.table["model"].astype(str)))
    ordered = [c.primary] + [m for m in models if m != c.primary]
    parts = []
    for m in ordered:
        rows = channel_rows(c, m)
        rows = rows.assign(interval=_interval(rows)) if c.has_intervals else rows
        kinds = {"channel": ("Channel", "text"), "conversions": ("Conversions", "count")}
        if c.has_intervals:
            kinds["interval"] = ("Interval", "text")
        kinds.update({"share": ("Share", "percent"), "revenue": ("Revenue", "money")})
        if c.has_spend:
            kinds.update({"spend": ("Spend", "money"), "roas": ("ROAS", "ratio"), "cpa": ("CPA", "money"),
                          "roi": ("ROI", "percent")})
        muted = np.flatnonzero((rows["channel"] == NONE_CHANNEL).to_numpy())
        html = table(rows, kinds, muted)
        parts.append(html if m == c.primary else f"<details><summary>{esc(m)}</summary>{html}</details>")
    more = " Other models: open them below the table." if len(models) > 1 else ""
    if c.has_spend:
        how = (f"What each channel earned under the {c.primary} model: conversions, revenue, the return (ROAS = "
               "revenue / spend, ROI = (revenue − spend) / spend) and the cost per conversion (CPA)." + more,
               "ROAS above 1 (ROI above 0%) pays back its spend; '(none)' holds conversions with no marketing "
               "touch, which no channel can claim.")
    else:
        how = (f"What each channel earned under the {c.primary} model: conversions, share and revenue." + more,
               f"'(none)' holds conversions with no marketing touch, which no channel can claim; {option('spend')} adds ROAS "
               "and CPA.")
    return section(f"Channels ({c.primary})", how, "".join(parts), "channels")


def _interval(rows):
    lo, hi = rows["conversions_lo"].to_numpy(float), rows["conversions_hi"].to_numpy(float)
    return [("–" if not (np.isfinite(a) and np.isfinite(b)) else f"{number(a)} – {number(b)}") for a, b in zip(lo, hi)]


def returns(c: ReportContent) -> str:
    if not c.has_spend:
        return section("Return on spend", (
            "ROAS and CPA need what each channel cost.",
            f"Run the report with {option('spend', 'FILE')} (channel, spend[, date])."), note("No spend table given."), "returns")
    body = (_chart(plot_roi, (10.5, 5.2), "ROAS by channel and model", table=c.result.table, metric="roas")
            + _chart(plot_roi, (10.5, 5.2), "CPA by channel and model", table=c.result.table, metric="cpa"))
    return section("Return on spend by model", (
        "Top: revenue per unit of spend (right of the dashed line at 1 pays back). Bottom: spend per conversion "
        "(shorter is cheaper).",
        "A channel that wins under every model is a robust winner; channels without spend are not shown."),
        body, "returns")


def trend(c: ReportContent) -> str:
    if c.trend is None:
        return section("Trend", ("How the channels move from period to period.", "Choose a period to see it."),
                       note(c.notes.get("trend", "No trend.")), "trend")
    body = _chart(plot_kpi_trend, (10.5, 4.0), "Conversions by period", table=c.trend, metric="conversions",
                  total=False)
    if c.has_spend:
        body += _chart(plot_kpi_trend, (10.5, 4.0), "ROAS by period", table=c.trend, metric="roas")
    return section(f"Trend by period ({c.primary})", (
        "Each line is a channel's attributed conversions (and ROAS) per period; the dashed line on the ROAS "
        "chart is the blended ROAS of all channels with spend.",
        "Credit is dated by the conversion, spend by its date; the last period may be incomplete."), body, "trend")


def funnel(c: ReportContent) -> str:
    if c.funnel is None:
        return section("Funnel", ("Users through the funnel stages.", ""), note(c.notes.get("journeys", "")),
                       "funnel")
    stages = len([col for col in c.funnel.columns if col.endswith("_rate")])
    body = _chart(plot_funnel, (9.0, 1.2 + 0.6 * (stages + 1)), "Funnel", funnel=c.funnel)
    return section("Funnel", (
        "How many people reached each stage, from everyone seen in the log to paying customers; the percentage "
        "is the share of the stage before that went on.",
        f"A stage counts everyone who reached it or any later stage. Add stages with {option('milestone-event')}."),
        body, "funnel")


def paths(c: ReportContent) -> str:
    if c.paths is None:
        return section("Paths", ("", ""), note(c.notes.get("journeys", "")), "paths")
    pair = _chart(plot_path_lengths, (6.2, 3.8), "Conversions by path length", lengths=c.lengths)
    if c.lags is not None:
        pair += _chart(plot_time_lags, (6.2, 3.8), "Time lag to conversion", lags=c.lags)
    body = f'<div class="pair">{pair}</div>'
    body += _chart(plot_top_paths, (10.0, 1.0 + 0.36 * len(c.paths)), "Top paths", paths=c.paths)
    return section("Journeys and paths", (
        "Top: how many touches converting journeys had, and how long from the first touch to the conversion. "
        "Bottom: the channel sequences that converted most, with the share of their journeys that converted.",
        "Long paths and lags argue for multi-touch credit; '(none)' are conversions with no touch in the "
        "lookback window."), body, "paths")


def markov(c: ReportContent) -> str:
    if c.markov is None:
        return section("Markov removal effects", ("", ""), note(c.notes["markov"]), "markov")
    effects = c.markov.removal_effects_
    body = _chart(plot_removal_effects, (9.0, 1.2 + 0.4 * len(effects)), "Removal effects", effects=effects)
    body += _chart(plot_transition_graph, (10.0, 6.0), "Strongest transitions",
                   transitions=c.markov.transition_matrix())
    return section("Markov removal effects and transitions", (
        "The removal effect is the share of conversions that would be lost if the channel vanished from every "
        "journey; the Markov model gives credit in proportion to it.",
        "The graph shows where journeys usually go next from each channel, and in each box how often the next "
        "step is a conversion."), body, "markov")


def settings(c: ReportContent) -> str:
    return section("Settings of this run", (
        "What produced these numbers: the inputs and every option.",
        "Run the same command on the same files to get the same report, byte for byte."),
        settings_list(c.settings), "settings")


SECTIONS = (comparison, channel_table, returns, trend, funnel, paths, markov, settings)
