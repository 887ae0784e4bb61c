"""The typer application every command registers on, and the one place where errors become exit statuses.

Every command registered with ``@app.command(...)`` is guarded: an :class:`AttributionError` (bad input, bad
option, unwritable output) prints one ``error: ...`` message on stderr and exits with status 2, without a
traceback; so do a full disk or an unwritable folder met while writing (``OSError`` ENOSPC, EDQUOT, EROFS, EACCES,
EPERM) and running out of memory (``MemoryError``, a failed memory mapping), the latter with the
``--memory-limit`` to set. Any other exception is an internal error (a bug) and exits with status 1. ``--debug``
(anywhere on the command line) shows the traceback instead. Usage errors from the option parser also exit with 2.

SIGINT (Ctrl-C) and SIGTERM stop a run the same way: the signal becomes an exception in the main thread, so every
temporary output (``.attribution-*.tmp``) and spill folder is removed on the way out and previous outputs stay
as they were; the exit status is 130 for SIGINT and 143 for SIGTERM (128 + the signal number, the shells'
convention). A second signal during that cleanup is ignored.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import sys
import threading
import warnings

import typer

from attribution.exceptions import AttributionError, command_line
from attribution.memory import out_of_memory_message

#: the base class of the option parser's errors, which it reports itself (exit 2); found through typer's public
#: ``BadParameter`` because typer vendors its own click from 0.2x on, and ``click`` need not be installed at all
_CLICK_EXCEPTION = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

#: settings of the current command line (``--debug``: tracebacks instead of one-line errors)
STATE = {"debug": False}


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    print(f"warning: {message}", file=sys.stderr)


def _guarded(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with command_line():  # messages, the handlers' below included, name options as flags (--lookback-days)
            return _handled(fn, args, kwargs)

    return wrapper


def _handled(fn, args, kwargs):
    """``fn(*args, **kwargs)`` with every failure turned into one line on stderr and its exit status."""
    warnings.showwarning = _show_warning
    try:
        return fn(*args, **kwargs)
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:  # the reader of stdout went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except AttributionError as exc:
        if STATE["debug"]:
            raise
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    except (KeyboardInterrupt, Terminated) as exc:
        code = 143 if isinstance(exc, Terminated) else 130
        name = "SIGTERM" if code == 143 else "SIGINT"
        print(f"error: stopped by {name}; temporary files removed, previous outputs left as they were.",
              file=sys.stderr)
        raise typer.Exit(code) from None
    except (MemoryError, OSError) as exc:
        message = None if STATE["debug"] else _resource_message(exc)
        if message is None:
            _internal(exc)
        print(f"error: {message}", file=sys.stderr)
        raise typer.Exit(2) from None
    except RuntimeError as exc:
        if "can't start new thread" not in str(exc) or STATE["debug"]:  # no room left for a thread's stack
            _internal(exc)
        print(f"error: {out_of_memory_message(str(exc))}", file=sys.stderr)
        raise typer.Exit(2) from None
    except Exception as exc:
        if isinstance(exc, _CLICK_EXCEPTION) or STATE["debug"]:
            raise
        _internal(exc)


def _internal(exc: BaseException):
    if STATE["debug"]:
        raise exc
    print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
    raise typer.Exit(1) from None


class Terminated(BaseException):
    """Raised in the main thread by SIGTERM (a :class:`BaseException`, like :class:`KeyboardInterrupt`, so that
    no ``except Exception`` swallows it and every ``finally`` cleans up)."""


#: errors of the machine, not of the program: a full disk, a read-only or forbidden folder
_RESOURCE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def _resource_message(exc: BaseException) -> str | None:
    """The one-line message for running out of memory or disk, or writing where one may not; else None."""
    if isinstance(exc, MemoryError):
        return out_of_memory_message(str(exc).strip())
    text = str(exc)
    if exc.errno == errno.ENOMEM or "Memory mapping file failed" in text or "ENOMEM" in text:
        return out_of_memory_message(text.strip().splitlines()[0] if text.strip() else "")
    if exc.errno in _RESOURCE_ERRNOS:
        where = f" {exc.filename!r}" if exc.filename else ""
        if exc.errno in (errno.EACCES, errno.EPERM):  # reading an input or writing an output
            return (f"{exc.strerror or text}:{where or ' a file'}. Check that you may read the inputs and write "
                    "the outputs (-o, --detail, --spill-dir).")
        return (f"Cannot write{where}: {exc.strerror or text}. Free disk space, or choose a folder you can "
                "write to (-o, --detail, --spill-dir).")
    return None


def _on_signal(signum, frame):  # noqa: ARG001
    for sig in (signal.SIGINT, signal.SIGTERM):  # cleanup runs once, not interrupted by a second signal
        signal.signal(sig, signal.SIG_IGN)
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def install_signal_handlers() -> dict:
    """SIGTERM and SIGINT raise in the main thread (see the module docstring); returns the previous handlers."""
    previous = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if handler is not signal.SIG_IGN:  # keep a signal the parent chose to ignore (nohup)
            previous[sig] = handler
            signal.signal(sig, _on_signal)
    return previous


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
    STATE["debug"] = STATE["debug"] or debug
