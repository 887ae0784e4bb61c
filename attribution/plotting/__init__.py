"""Charts of attribution results for notebooks and reports.

Every function takes results (a tidy table, a transition matrix, a funnel or path-statistics frame) and never
refits or reads data; accepts ``ax=None`` (a new figure then) and returns the axes; sets a title and axis labels,
shows shares and rates as percents, and changes no global matplotlib state. matplotlib (extra ``plot``) is
imported only when a chart is drawn, so importing :mod:`attribution` never needs it.

=============================  ==============================================================================
:func:`plot_model_comparison`  share (conversions, revenue) per channel, one bar per model; truth, intervals
:func:`plot_share_heatmap`     share of conversions, channel × model
:func:`plot_roi`               ROAS, ROI or CPA per channel, one bar per model
:func:`plot_kpi_trend`         a KPI by period, one line per channel (a ``--period`` table)
:func:`plot_removal_effects`   Markov removal effects per channel
:func:`plot_transition_heatmap` Markov transition probabilities (aggregated to channels at order ≥ 2)
:func:`plot_transition_graph`  the strongest Markov transitions as a graph
:func:`plot_funnel`            users through the funnel stages (:func:`attribution.kpis.funnel.funnel_frame`)
:func:`plot_path_lengths`      conversions by touches per journey (:mod:`attribution.kpis.pathstats`)
:func:`plot_time_lags`         conversions by days from first touch to conversion
:func:`plot_top_paths`         the top converting paths
=============================  ==============================================================================

:func:`save_chart` writes a chart to a file (format from its extension, :func:`chart_format`), and
:func:`chart_bytes` returns its image bytes, both reproducibly (no date in the file).
"""

from attribution.plotting._common import chart_bytes, chart_format, save_chart
from attribution.plotting.journeys import plot_funnel, plot_path_lengths, plot_time_lags, plot_top_paths
from attribution.plotting.markov import plot_removal_effects, plot_transition_graph, plot_transition_heatmap
from attribution.plotting.models import plot_model_comparison, plot_roi, plot_share_heatmap
from attribution.plotting.trends import plot_kpi_trend

__all__ = ["plot_model_comparison", "plot_share_heatmap", "plot_roi", "plot_kpi_trend", "plot_removal_effects",
           "plot_transition_heatmap", "plot_transition_graph", "plot_funnel", "plot_path_lengths",
           "plot_time_lags", "plot_top_paths", "save_chart", "chart_bytes", "chart_format"]
