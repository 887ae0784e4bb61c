"""What every chart shares: a fresh axes when none is given, the colours, the percent axis, bar labels."""

from __future__ import annotations

import io
import os

from attribution.exceptions import ParameterError
from attribution.io.export import check_writable, write_atomic

# Okabe & Ito's colour-blind-safe palette (its black swapped for purple: black marks totals and truth), then
# matplotlib's tab10 for longer lists (fixed per position, so a model keeps its colour from chart to chart when the
# models are given in the same order)
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#7F3C8D",
           "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
BAR = "#0072B2"
GRID = "#d9d9d9"


def new_axes(ax=None, figsize=(9.0, 4.5)):
    """``ax``, or the axes of a new figure of ``figsize`` inches (pyplot imported only then)."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def percent_axis(axis, decimals: int | None = 0) -> None:
    """Show a 0–1 fraction axis as percent (``axis`` is ``ax.xaxis`` or ``ax.yaxis``)."""
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def number_axis(axis) -> None:
    """Thousands separators on a count or money axis."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}"))


def tidy(ax, grid: str = "y") -> None:
    """Light grid behind the data, no top and right frame lines (on this axes only: no global style)."""
    ax.set_axisbelow(True)
    if grid:
        ax.grid(axis=grid, color=GRID, linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def legend_outside(ax, title: str | None = None) -> None:
    """The legend to the right of the plot, where it covers no bar."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False, title=title,
              title_fontsize="small")


def shorten(text: str, width: int = 48) -> str:
    """``text`` cut to ``width`` characters with an ellipsis in the middle (long paths stay recognisable)."""
    text = str(text)
    if len(text) <= width:
        return text
    half = (width - 1) // 2
    return text[:half] + "…" + text[-(width - 1 - half):]


def pick_model(table, model: str | None, what: str) -> str:
    """The model to draw from ``table``: ``model`` if given (it must be there), else the only one."""
    models = list(dict.fromkeys(table["model"].astype(str)))
    if model is not None:
        if str(model) not in models:
            raise ValueError(f"model {model!r} is not in the table; its models: {', '.join(models)}.")
        return str(model)
    if len(models) != 1:
        raise ValueError(f"{what} draws one model and the table has {len(models)} ({', '.join(models)}); "
                         "choose one with model=...")
    return models[0]


CHART_FORMATS = ("png", "svg", "pdf")


def chart_format(path: str) -> str:
    """The image format of a chart file from its extension (``png``, ``svg`` or ``pdf``); checks its folder."""
    ext = os.path.splitext(str(path))[1].lower().lstrip(".")
    if ext not in CHART_FORMATS:
        raise ParameterError(f"Cannot tell the image format of {path!r} from its extension; use "
                             f"{', '.join('.' + f for f in CHART_FORMATS)}.")
    check_writable(str(path))
    return ext


def chart_bytes(ax_or_figure, fmt: str = "png", dpi: int = 110) -> bytes:
    """The figure of an axes as image bytes, reproducibly: no date, fixed SVG ids (in a local rc context)."""
    import matplotlib

    figure = getattr(ax_or_figure, "figure", ax_or_figure)
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "attribution", "svg.fonttype": "path"}):
        figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata, facecolor="white")
    return buffer.getvalue()


def save_chart(ax_or_figure, path: str, dpi: int = 110) -> None:
    """Write the figure of an axes to ``path`` (format from the extension) atomically, like every output."""
    write_atomic(chart_bytes(ax_or_figure, chart_format(path), dpi), str(path))
