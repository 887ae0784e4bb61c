"""Readable tables for the terminal (stdout) and the run summary (stderr)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def format_frame(frame: pd.DataFrame) -> str:
    """A fixed-width text table: money with 2 decimals, whole counts with none, shares and ratios with 4, nulls ``-``."""
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            values = shown[col].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            if col in ("share", "removal_effect", "roi", "spearman", "spread") or col.endswith(("_rate", "roas")) \
                    or col.startswith("share_"):
                digits = 4
            elif len(finite) and np.all(finite == np.round(finite)) and col != "revenue":
                digits = 0  # counts that are whole numbers everywhere (journeys, first-touch conversions)
            else:
                digits = 2
            shown[col] = [("-" if not np.isfinite(v) else f"{v:,.{digits}f}") for v in values]
    return shown.to_string(index=False)


def echo_table(frame: pd.DataFrame) -> None:
    print(format_frame(frame))


def echo_summary(summary: dict, quiet: bool) -> None:
    """One short run summary on stderr (rows read, journeys, conversions, ignored and dropped rows)."""
    if quiet or not summary:
        return
    parts = []
    if "rows" in summary:
        parts.append(f"{summary['rows']:,} rows from {summary.get('files', 1)} file(s)")
    if "paths" in summary:
        parts.append(f"{summary['paths']:,} distinct paths")
    if "journeys" in summary:
        parts.append(f"{summary['journeys']:,} journeys ({summary.get('touches', 0):,} touches)")
    if "conversions" in summary:
        parts.append(f"{summary['conversions']:,.6g} conversions")
    if summary.get("touchless_conversions"):
        parts.append(f"{summary['touchless_conversions']:,.6g} touchless -> (none)")
    if summary.get("ids_merged") is not None:
        parts.append(f"{summary['ids_merged']:,} ids merged")
    if summary.get("ignored"):
        parts.append(f"{summary['ignored']:,} rows of other events ignored")
    dropped = {k: v for k, v in summary.get("dropped", {}).items() if v}
    if dropped:
        parts.append("dropped " + ", ".join(f"{k}: {v:,}" for k, v in dropped.items()))
    print("; ".join(parts), file=sys.stderr)
