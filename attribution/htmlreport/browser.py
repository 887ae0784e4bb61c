"""Open a report in headless Chromium: its screenshot and every console message (used by the tests and by
``scripts/make_docs_images.py``; nothing in the package needs a browser).

A report carries a Content-Security-Policy forbidding every load but inline styles and ``data:`` images, so any
attempt to fetch something from outside the file is blocked *and* logged as a console message; a page that loads
cleanly logs none. Chromium writes console messages to stderr with ``--enable-logging=stderr`` as lines holding
``:CONSOLE``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

#: The environment variable naming the Chromium binary (``.ci/run`` sets it after installing Debian's chromium).
CHROMIUM_ENV = "ATTRIBUTION_TEST_CHROMIUM"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0")
_CONSOLE = re.compile(r":CONSOLE[:(]")


def find_chromium() -> str | None:
    """The Chromium binary: ``$ATTRIBUTION_TEST_CHROMIUM``, else ``chromium`` or ``chromium-browser`` on PATH."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if os.path.isfile(named) and os.access(named, os.X_OK) else shutil.which(named)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(chromium: str, page: str | Path, png: str | Path, width: int = 1280, height: int = 2000,
               timeout: float = 300) -> list[str]:
    """Load ``page`` (a local file) headless, write its screenshot to ``png``, and return the console messages
    (empty for a page that loaded cleanly).

    Raises
    ------
    RuntimeError
        When Chromium fails or writes no screenshot (with the end of its log).
    """
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="attribution-chromium-") as profile:
        args = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={Path(png).resolve()}",
                f"--window-size={width},{height}", url]
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env={**os.environ, "HOME": profile})
    log = done.stderr.splitlines()
    if done.returncode != 0 or not Path(png).is_file():
        raise RuntimeError(f"chromium exited with {done.returncode} and no screenshot:\n" + "\n".join(log[-20:]))
    return [line for line in log if _CONSOLE.search(line)]
