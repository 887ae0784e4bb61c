"""attribution: exact, fast multi-touch marketing attribution.

Events → journeys → path table → models → KPIs → export (see the README and ``shared/DESIGN.md``).
"""

from .events import Events, read_events
from .exceptions import AttributionError, InputError, NotFittedError, OutputError, ParameterError
from .journeys import Journeys
from .paths import PathTable, read_paths
from .pipeline import RunResult, load_journeys, run
from .result import attribute, attribution_frame

__version__ = "0.1.0"

__all__ = [
    "Events", "read_events", "Journeys", "PathTable", "read_paths", "RunResult", "load_journeys", "run",
    "attribute", "attribution_frame", "AttributionError", "InputError", "NotFittedError", "OutputError",
    "ParameterError", "__version__",
]
