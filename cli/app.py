"""The typer application and the one place where errors become exit statuses.

Exit statuses: 0 success; 2 bad input, bad option or unwritable output (an :class:`AttributionError`, or a
usage error); 1 an unexpected internal error (a bug: rerun with ``--debug`` for the traceback).
"""

from __future__ import annotations

import sys
import warnings

import typer

from attribution.exceptions import AttributionError

app = typer.Typer(
    name="attribution",
    help="Multi-touch marketing attribution: event logs in, attributed channels and ROI tables out.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    print(f"warning: {message}", file=sys.stderr)


def _register_commands() -> None:
    # each command lives in its own module and registers itself on ``app``
    from . import demo, run  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, mapping engine errors to exit status 2 without a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    _register_commands()
    warnings.showwarning = _show_warning
    try:
        app(args=args, standalone_mode=False)
    except AttributionError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:  # raised by commands for a clean exit code
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code (2)
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
        sys.exit(1)


_register_commands()
