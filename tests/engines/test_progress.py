"""Progress bars: on stderr only when it is a terminal (or asked for), never with --quiet, never on stdout."""

from __future__ import annotations

import io
import sys

from attribution.progress import progress, wants_progress


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch):
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    assert not wants_progress(None)
    with progress(total=10, desc="work") as bar:
        bar.update(10)
    assert fake.getvalue() == ""


def test_bar_when_asked_and_silent_when_quiet(monkeypatch):
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    with progress(total=10, desc="partition by user", enabled=True) as bar:
        bar.update(10)
    assert "partition by user" in fake.getvalue()
    fake.truncate(0)
    with progress(total=10, desc="partition by user", enabled=False) as bar:
        bar.update(10)
    assert fake.getvalue() == ""


def test_terminal_detection(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    assert wants_progress(None) and not wants_progress(False)
