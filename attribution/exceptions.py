"""The exception and warning family of the engine.

Every error a user can cause derives from :class:`AttributionError`; the command line maps that family to
exit status 2 in one place (``attribution.cli.base``). Input problems carry a list of :class:`Problem` records so
that every broken rule is reported at once (pandera's ``lazy=True`` convention).
"""

from __future__ import annotations

import contextvars
import shlex
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator


#: the longest value echoed in a message (longer ones are cut, with an ellipsis)
MAX_SHOWN = 80


def shorten(value: Any, limit: int = MAX_SHOWN) -> Any:
    """A value fit to be echoed in a message: text (or bytes) longer than ``limit`` characters cut, with ``…``
    and the full length; anything else as is."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return value[: limit - 1] + ("…" if isinstance(value, str) else b"...") + (
            f" ({len(value):,} chars)" if isinstance(value, str) else f" ({len(value):,} bytes)".encode())
    return value


#: who is asking: "python" (the library, the default) or "cli" (set by the command line while a command runs)
_FRONT_END: contextvars.ContextVar[str] = contextvars.ContextVar("attribution_front_end", default="python")


@contextmanager
def command_line() -> Iterator[None]:
    """Within this block, messages name options as command-line flags (``--lookback-days 30``)."""
    token = _FRONT_END.set("cli")
    try:
        yield
    finally:
        _FRONT_END.reset(token)


def option(flag: str, value: Any = None, *, quoted: bool = False) -> str:
    """An option as the caller spells it, for messages.

    The command line reads ``--lookback-days none``; Python reads ``lookback_days='none'`` (the keyword of
    :func:`attribution.run` and :class:`attribution.options.RunOptions`, which are spelled like the flags).

    Parameters
    ----------
    flag : str
        The option's flag without the dashes, e.g. ``"lookback-days"``.
    value : optional
        A value to show with it (``--period month`` / ``period='month'``).
    quoted : bool
        Put the command-line form in single quotes (``'--ci'``); the Python name of an option without a value is
        quoted too (``'ci'``).

    Examples
    --------
    >>> option("lookback-days", "none")
    "lookback_days='none'"
    >>> with command_line():
    ...     option("lookback-days", "none"), option("delimiter", ";")
    ('--lookback-days none', "--delimiter ';'")
    """
    flag = flag.lstrip("-")
    if _FRONT_END.get() == "cli":
        text = f"--{flag}" if value is None else f"--{flag} {value if quoted else shlex.quote(str(value))}"
        return f"'{text}'" if quoted else text
    name = flag.replace("-", "_")
    if value is None:
        return f"'{name}'" if quoted else name
    shown = value if isinstance(value, (int, float)) or _is_number(value) else repr(str(value))
    return f"{name}={shown}"


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class AttributionError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One broken rule of the input.

    Parameters
    ----------
    code : str
        Machine-readable reason code, e.g. ``"revenue_negative"``.
    rule : str
        The rule in words, e.g. ``"must be a number >= 0"``.
    fix : str
        How to fix it.
    file : str, optional
        The file the rule was checked on.
    column : str, optional
        The column (as named in the file).
    count : int, optional
        How many rows break the rule.
    first_row : int, optional
        0-based row number (within ``file``) of the first offending row.
    example : dict, optional
        The values of the first offending row.
    """

    code: str
    rule: str
    fix: str
    file: str | None = None
    column: str | None = None
    count: int | None = None
    first_row: int | None = None
    example: dict[str, Any] | None = field(default=None, compare=False)

    def describe(self) -> str:
        where = []
        if self.file:
            where.append(f"file {shorten(str(self.file), 4 * MAX_SHOWN)}")
        if self.column:
            where.append(f"column '{shorten(str(self.column))}'")
        head = ", ".join(where)
        text = f"{head}: {self.rule}" if head else self.rule
        if self.count is not None:
            text += f" [{self.code}]; {self.count:,} row{'s' if self.count != 1 else ''} break{'s' if self.count == 1 else ''} it"
            if self.first_row is not None:
                text += f", first at row {self.first_row} (0-based, header excluded)"
                if self.example:
                    shown = ", ".join(f"{shorten(str(k))}={shorten(v)!r}" for k, v in self.example.items())
                    text += f" ({shown})"
        else:
            text += f" [{self.code}]"
        return f"{text}. Fix: {self.fix}"


class InputError(AttributionError, ValueError):
    """The input breaks one or more rules of the behaviour contract.

    Parameters
    ----------
    problems : list of Problem
        Every broken rule found.
    """

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problems) == 1:
            return "invalid input: " + self.problems[0].describe()
        lines = [f"invalid input: {len(self.problems)} problems"]
        lines += [f"  - {p.describe()}" for p in self.problems]
        return "\n".join(lines)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


class ParameterError(AttributionError, ValueError):
    """A model, option or parameter the engine does not accept."""


class OutputError(AttributionError, OSError):
    """An output could not be written (nothing was written)."""


class NotFittedError(AttributionError, AttributeError):
    """A model's fitted attributes were asked for before ``fit``."""


class AttributionWarning(UserWarning):
    """Base class of the engine's warnings."""


class NoNullJourneysWarning(AttributionWarning):
    """There are no non-converting journeys; conversion odds cannot separate channels."""


class DroppedRowsWarning(AttributionWarning):
    """Rows were dropped (``on_bad_rows='skip'``) or ignored."""


class RenamedChannelWarning(AttributionWarning):
    """A touch's channel had a reserved name (the touchless row's ``(none)``) and was renamed."""


class TouchWeightsWarning(AttributionWarning):
    """Markov touch weights could not reproduce the channel credit exactly (the margins are infeasible)."""
