"""Progress bars for long stages, on stderr, only when stderr is a terminal (tqdm).

``--quiet`` (``enabled=False``) silences them; ``enabled=None`` means "when stderr is a terminal". Pipes, files,
CI logs and notebooks' captured stderr never get bar fragments.
"""

from __future__ import annotations

import contextlib
import sys


class _NoBar:
    def update(self, n=1) -> None:  # noqa: D401 - same call as tqdm
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


def wants_progress(enabled=None) -> bool:
    """True when bars should be drawn: ``enabled`` if given, else whether stderr is a terminal."""
    if enabled is not None:
        return bool(enabled)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress(*, total=None, desc: str = "", unit: str = "it", enabled=None):
    """A tqdm bar on stderr (or a no-op object with the same ``update``)."""
    if not wants_progress(enabled):
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "rows", file=sys.stderr, leave=False,
               dynamic_ncols=True, mininterval=0.5)
    try:
        yield bar
    finally:
        bar.close()
