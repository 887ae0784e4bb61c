"""A shareable HTML report of one run: headline figures, the model comparison, channel ROI, trend, funnel,
paths and Markov effects, each with a two-line "how to read this", in one self-contained file.

The file opens with no network: CSS inline, charts inline as base64 PNG, no script, no external font, and a
Content-Security-Policy that forbids any other load. Same input, same file, byte for byte (no clock in it).

Examples
--------
>>> from attribution.sim.datasets import sample_events_path, sample_spend_path
>>> from attribution.htmlreport import write_report
>>> write_report("report.html", sample_events_path(), spend=sample_spend_path())  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from attribution import __version__
from attribution.exceptions import ParameterError
from attribution.io.export import check_writable, write_atomic
from attribution.htmlreport.content import ReportContent, gather
from attribution.htmlreport.page import page
from attribution.htmlreport.sections import SECTIONS, headline

__all__ = ["ReportContent", "gather", "report_html", "write_report"]


def report_html(content: ReportContent) -> str:
    """The report page of gathered content."""
    body = headline(content) + "".join(build(content) for build in SECTIONS)
    return page("Marketing attribution report", _subtitle(content), body)


def _subtitle(content: ReportContent) -> str:
    j = content.result.journeys
    span = ""
    if j is not None and j.has_times and j.n_journeys:
        first = np.min(j.touch_time) if j.n_touches else np.min(j.end_time)
        span = (f"{np.datetime64(int(first), 'ns').astype('datetime64[D]')} to "
                f"{np.datetime64(int(np.max(j.end_time)), 'ns').astype('datetime64[D]')} · ")
    models = list(dict.fromkeys(content.result.table["model"].astype(str)))
    return f"{span}{len(models)} model{'s' if len(models) != 1 else ''} compared · lead model: {content.primary}"


def _settings(sources, options: dict, content: ReportContent) -> list[tuple[str, str]]:
    shown = lambda v: "none" if v in (None, (), []) else ", ".join(map(str, v)) if isinstance(v, (list, tuple)) \
        else str(v)  # noqa: E731
    models = list(dict.fromkeys(content.result.table["model"].astype(str)))
    out = [("Event log", shown([os.path.basename(str(s)) for s in (sources if isinstance(sources, (list, tuple))
                                                                    else [sources])])),
           ("Models", shown(models)), ("Lead model", content.primary)]
    for key, label in (("spend", "Spend table"), ("period", "Trend period"), ("ci", "Interval level"),
                       ("n_boot", "Bootstrap replicates"), ("seed", "Bootstrap seed"),
                       ("lookback_days", "Lookback (days)"), ("conversion_events", "Conversion events"),
                       ("milestone_events", "Funnel milestones"), ("columns", "Column mapping"),
                       ("spend_columns", "Spend column mapping"), ("on_bad_rows", "Bad rows")):
        if key in ("n_boot", "seed") and options.get("ci") is None:
            continue
        value = options.get(key)
        if key == "spend" and value is not None and not hasattr(value, "columns"):
            value = os.path.basename(str(value))
        out.append((label, shown(value)))
    out.append(("attribution version", __version__))
    return out


def write_report(output, sources, **options) -> ReportContent:
    """Gather a run's report (:func:`attribution.htmlreport.content.gather` options) and write it to ``output``
    atomically (a previous file survives any failure).

    Returns
    -------
    ReportContent
    """
    if os.path.splitext(str(output))[1].lower() not in (".html", ".htm"):
        raise ParameterError(f"The report is an HTML file: give --output a name ending in .html. Got {output!r}.")
    check_writable(str(output))
    content = gather(sources, **options)
    content.settings = _settings(sources, options, content)
    write_atomic(report_html(content).encode("utf-8"), str(output))
    return content
