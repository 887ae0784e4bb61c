"""Splitting path strings into channel codes: see :mod:`attribution.pathsplit` (shared with path tables)."""

from attribution.pathsplit import split_paths

__all__ = ["split_paths"]
