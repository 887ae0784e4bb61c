"""Splitting path strings into channel codes: see :mod:`attribution.journeys.pathsplit` (shared with path tables)."""

from attribution.journeys.pathsplit import split_paths

__all__ = ["split_paths"]
