"""The typer application and the one place where errors become exit statuses.

Every command registered with ``@app.command(...)`` is guarded: an :class:`AttributionError` (bad input, bad
option, unwritable output) prints one ``error: ...`` message on stderr and exits with status 2, without a
traceback; any other exception is an internal error (a bug) and exits with status 1. ``--debug`` (anywhere on
the command line) shows the traceback instead. Usage errors from the option parser also exit with 2.
"""

from __future__ import annotations

import functools
import sys
import warnings

import typer

from attribution.exceptions import AttributionError

_state = {"debug": False}


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    print(f"warning: {message}", file=sys.stderr)


def _guarded(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        warnings.showwarning = _show_warning
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:  # the reader of stdout went away (``| head``): stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except AttributionError as exc:
            if _state["debug"]:
                raise
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None
        except Exception as exc:
            import click

            if isinstance(exc, click.ClickException) or _state["debug"]:
                raise
            print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                  file=sys.stderr)
            raise typer.Exit(1) from None

    return wrapper


class _GuardedTyper(typer.Typer):
    """A Typer whose commands map engine errors to exit statuses (see the module docstring)."""

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)

        def decorator(fn):
            register(_guarded(fn))
            return fn

        return decorator


app = _GuardedTyper(
    name="attribution",
    help="Multi-touch marketing attribution: event logs in, attributed channels and ROI tables out.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors.")) -> None:
    """Multi-touch marketing attribution: event logs in, attributed channels and ROI tables out."""
    _state["debug"] = _state["debug"] or debug


def _register_commands() -> None:
    # each command lives in its own module and registers itself on ``app``
    from . import channels, demo, funnel, run, simulate, transitions  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``attribution``, ``python -m attribution``)."""
    from attribution.memory import keep_freed_memory

    keep_freed_memory()  # this process is ours: reuse freed arrays' memory (see attribution.memory)
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:
        args.remove("--debug")
        _state["debug"] = True
    app(args=args, prog_name="attribution")


_register_commands()
