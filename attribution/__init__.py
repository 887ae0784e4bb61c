"""attribution: exact, fast multi-touch marketing attribution.

Events → journeys → path table → models → KPIs → export (see the README and ``shared/DESIGN.md``).
"""

import os as _os

# Run from a source checkout (the repository root first on sys.path, as with ``python -m attribution`` there),
# this folder is imported instead of the installed package; ``models/`` and ``cli/`` sit beside it and are
# installed as ``attribution.models`` and ``attribution.cli`` (pyproject ``package-dir``). Let the package find
# them there too, so a checkout behaves like an installation. Installed packages never take this branch.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_root, "pyproject.toml")) and all(
        _os.path.isfile(_os.path.join(_root, sub, "__init__.py")) for sub in ("models", "cli")):
    __path__.append(_root)  # noqa: F821 - the package's own search path

from attribution.io.events import Events  # noqa: E402
from attribution.io.reader import read_events  # noqa: E402
from attribution.exceptions import AttributionError, InputError, NotFittedError, OutputError, ParameterError  # noqa: E402
from attribution.journeys.journeys import Journeys  # noqa: E402
from attribution.journeys.paths import PathTable, read_paths  # noqa: E402
from attribution.runner import RunResult, load_journeys, run  # noqa: E402
from attribution.kpis.result import attribute, attribution_frame  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Events", "read_events", "Journeys", "PathTable", "read_paths", "RunResult", "load_journeys", "run",
    "attribute", "attribution_frame", "AttributionError", "InputError", "NotFittedError", "OutputError",
    "ParameterError", "__version__",
]
