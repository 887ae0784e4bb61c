"""Attribution models (installed as ``attribution.models``).

Every model follows one contract (:class:`~attribution.models.base.AttributionModel`): parameters are validated
in the constructor, ``fit(journeys)`` returns the model, and the fitted ``attribution_`` frame holds
``channel, conversions, revenue`` (plus model-specific columns).
"""

from .base import AttributionModel, TouchWeightModel, credit_table, merge_stats
from .heuristic import FirstTouch, LastNonDirect, LastTouch, Linear, PositionBased, TimeDecay
from .hazard import Hazard
from .logistic import Logistic
from .markov import Markov
from .shapley import Shapley
from .registry import MODELS, available_models, default_model_specs, parse_model_spec

__all__ = [
    "AttributionModel", "TouchWeightModel", "credit_table", "merge_stats",
    "FirstTouch", "LastTouch", "LastNonDirect", "Linear", "TimeDecay", "PositionBased",
    "Markov", "Shapley", "Logistic", "Hazard", "MODELS", "available_models", "default_model_specs", "parse_model_spec",
]
