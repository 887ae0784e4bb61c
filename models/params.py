"""Declared parameter constraints of the models (scikit-learn's ``_parameter_constraints``, in small).

A model lists its parameters and what each accepts in ``parameter_constraints``; the base class checks them all
with one message shape ("The 'half_life' parameter of TimeDecay must be a duration > 0. Got -3 instead.") and the
spec-string parser turns the text of ``markov:order=2`` into the value each constraint expects.

References
----------
.. [1] scikit-learn, ``sklearn.utils._param_validation`` (declared constraints, one validator, one message).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from attribution.exceptions import ParameterError
from attribution.io.timeparse import parse_duration_seconds

_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


class Constraint:
    """What one parameter accepts: ``ok(value)``, the rule in words, and ``parse(text)`` for spec strings."""

    rule = "a value"

    def ok(self, value) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, text: str):
        """The value a spec string's ``key=text`` stands for (checked by :meth:`ok` afterwards)."""
        return text

    def __str__(self) -> str:
        return self.rule


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _as_float(value) -> float:
    if isinstance(value, (bool, np.bool_)):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class Integer(Constraint):
    """An integer in ``[low, high]`` (either bound may be None)."""

    low: int | None = None
    high: int | None = None

    @property
    def rule(self) -> str:
        if self.low is not None and self.high is not None:
            return f"an integer from {self.low} to {self.high}"
        if self.low is not None:
            return f"an integer >= {self.low}"
        return f"an integer <= {self.high}" if self.high is not None else "an integer"

    def ok(self, value) -> bool:
        return _is_int(value) and (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def parse(self, text: str):
        try:
            return int(text)
        except ValueError:
            return text


@dataclass(frozen=True)
class Number(Constraint):
    """A finite real number, ``> low`` (``strict``) or ``>= low``."""

    low: float | None = None
    strict: bool = False

    @property
    def rule(self) -> str:
        if self.low is None:
            return "a finite number"
        return f"a number {'>' if self.strict else '>='} {self.low:g}"

    def ok(self, value) -> bool:
        v = _as_float(value)
        if not math.isfinite(v):
            return False
        return self.low is None or (v > self.low if self.strict else v >= self.low)

    def parse(self, text: str):
        try:
            return int(text)
        except ValueError:
            v = _as_float(text)
            return text if math.isnan(v) else v


@dataclass(frozen=True)
class Boolean(Constraint):
    """True or false (``true/false/yes/no`` in a spec string)."""

    rule = "true or false"

    def ok(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def parse(self, text: str):
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text


@dataclass(frozen=True)
class Choice(Constraint):
    """One of a fixed set of strings."""

    options: tuple = ()

    @property
    def rule(self) -> str:
        return " or ".join(repr(o) for o in self.options)

    def ok(self, value) -> bool:
        return isinstance(value, str) and value in self.options


@dataclass(frozen=True)
class Duration(Constraint):
    """A duration > 0: ``14d``, ``12h``, ``30m``, ``90s``, a number of days, or a ``datetime.timedelta``."""

    rule = "a duration > 0 such as 7d, 12h or 30m"

    def ok(self, value) -> bool:
        try:
            return parse_duration_seconds(value, owner="", name="") > 0
        except ParameterError:
            return False


@dataclass(frozen=True)
class Names(Constraint):
    """One or more non-empty names: a string (several joined by ``|``) or a sequence of strings."""

    rule = "one or more non-empty channel names"

    def ok(self, value) -> bool:
        return len(split_names(value)) > 0 and all(split_names(value))


@dataclass(frozen=True)
class AnyOf(Constraint):
    """Any of several constraints (``order``: an integer >= 1 or 'auto')."""

    options: tuple = ()

    @property
    def rule(self) -> str:
        return " or ".join(str(o) for o in self.options)

    def ok(self, value) -> bool:
        return any(o.ok(value) for o in self.options)

    def parse(self, text: str):
        values = [o.parse(text) for o in self.options]
        for o, value in zip(self.options, values):
            if o.ok(value):
                return value
        # none fits: the first reading that is not plain text (``order=0`` → 0), so the message shows the value
        return next((v for v in values if not isinstance(v, str)), text)


def split_names(value) -> tuple[str, ...]:
    """``"a|b"`` or ``["a", "b"]`` → ``("a", "b")`` (stripped)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(d.strip() for d in value.split("|"))
    try:
        return tuple(str(d).strip() for d in value)
    except TypeError:
        return ()


def format_value(value) -> str:
    """A parameter value as a spec string writes it (``true``, ``0.5``, ``3d``, ``a|b``)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"{int(seconds // size)}{unit}"
        return f"{seconds:g}s"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "|".join(str(v) for v in value)
    return str(value)
