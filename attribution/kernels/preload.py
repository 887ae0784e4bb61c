"""Importing modules on another thread while the main thread works.

A run that fits Markov needs scipy's sparse solvers, about 0.3 s of imports; reading and validating a log keeps
the main thread in Arrow's and numpy's compiled loops, which release the GIL. :func:`preload` starts those imports
on a background thread at the start of a run, so that the model finds them loaded; the main thread's own
``import`` of a module still being imported waits for it (Python's per-module import locks).
"""

from __future__ import annotations

import importlib
import sys
import threading


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 (the model's own import raises it where it belongs)
            return


def preload(names) -> threading.Thread | None:
    """Start importing ``names`` (module names) on a background thread; returns the thread, or None when every
    module is imported already. The thread is not a daemon: the interpreter waits for it before exiting, so that
    no import is cut off at shutdown."""
    wanted = tuple(dict.fromkeys(n for n in names if n not in sys.modules))
    if not wanted:
        return None
    thread = threading.Thread(target=_import_all, args=(wanted,), name="attribution-preload")
    thread.start()
    return thread
