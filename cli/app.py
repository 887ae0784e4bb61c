"""The command line's entry point (``attribution``, ``python -m attribution``): the typer application of
:mod:`attribution.cli.base` with every command registered.

Each command lives in its own module and registers itself on the application when imported; errors become exit
statuses in :mod:`attribution.cli.base`.
"""

from __future__ import annotations

import gc
import signal
import sys

from attribution.cli import channels, compare, demo, funnel, paths, report, run, simulate, transitions  # noqa: F401
from attribution.cli.base import STATE, app, install_signal_handlers
from attribution.memory import keep_freed_memory, memory_budget, one_arena_under_address_limit

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``attribution``, ``python -m attribution``)."""
    if argv is None:  # the console script: the imported modules' objects live as long as the process, so no
        gc.freeze()  # collection needs to walk them again (an in-process caller's objects are left alone)
    one_arena_under_address_limit()
    keep_freed_memory()  # this process is ours: reuse freed arrays' memory (see attribution.memory)
    memory_budget()  # the room before the run's allocations: an out-of-memory message advises from it
    previous = install_signal_handlers()
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:
        args.remove("--debug")
        STATE["debug"] = True
    try:
        app(args=args, prog_name="attribution")
    finally:  # main() called in-process (tests, notebooks) leaves the caller's handlers as they were
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
