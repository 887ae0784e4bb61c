"""Attribution models (installed as ``attribution.models``).

Every model follows one contract (:class:`~attribution.models.base.AttributionModel`): parameters are validated
in the constructor, ``fit(journeys)`` returns the model, and the fitted ``attribution_`` frame holds
``channel, conversions, revenue`` (plus model-specific columns).
"""

from attribution.models.base import AttributionModel, TouchWeightModel, credit_table, local_weights, merge_stats
from attribution.models.heuristic import FirstTouch, LastNonDirect, LastTouch, Linear, PositionBased, TimeDecay
from attribution.models.hazard import Hazard
from attribution.models.logistic import Logistic
from attribution.models.markov.model import Markov
from attribution.models.milestone import FullPath, MilestoneModel, UShaped, WShaped
from attribution.models.shapley import Shapley
from attribution.models.registry import MODELS, available_models, default_model_specs, parse_model_spec

__all__ = [
    "AttributionModel", "TouchWeightModel", "credit_table", "local_weights", "merge_stats",
    "FirstTouch", "LastTouch", "LastNonDirect", "Linear", "TimeDecay", "PositionBased",
    "Markov", "Shapley", "Logistic", "Hazard", "MilestoneModel", "UShaped", "WShaped", "FullPath", "MODELS",
    "available_models", "default_model_specs", "parse_model_spec",
]
