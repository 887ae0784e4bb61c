"""Model spec strings (``name`` or ``name:key=value,key=value``) and the registry of models.

Models register themselves when their class is defined (:class:`~attribution.models.base.AttributionModel`
``__init_subclass__``); this module imports the built-in ones so that they are all known, and parses specs.
"""

from __future__ import annotations

from attribution.exceptions import ParameterError, option

from attribution.models import hazard, heuristic, logistic, milestone, shapley  # noqa: F401 - they register on import
from attribution.models.base import MODELS, AttributionModel
from attribution.models.markov import model as _markov  # noqa: F401
HEURISTICS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")


def register(cls: type[AttributionModel]) -> type[AttributionModel]:
    """Add a model class to the registry under ``cls.name`` (subclasses with a ``name`` are added already)."""
    MODELS[cls.name] = cls
    return cls


def available_models() -> list[str]:
    return list(MODELS)


def default_model_specs() -> list[str]:
    """SPEC 5: with no ``--model``, all heuristic models and ``markov``."""
    return [m for m in HEURISTICS if m in MODELS] + (["markov"] if "markov" in MODELS else [])


def _coerce(text: str):
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_model_spec(spec: str) -> AttributionModel:
    """Build a model from a spec string such as ``time_decay:half_life=14d``.

    Raises
    ------
    ParameterError
        For an unknown model, an unknown parameter, a malformed spec or an invalid value.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"A model spec must be a non-empty string such as 'linear'. Got {spec!r} instead.")
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if name not in MODELS:
        raise ParameterError(
            f"Unknown model {name!r} in {option('model', spec)}. Available models: {', '.join(available_models())}."
        )
    cls = MODELS[name]
    accepted = cls._param_names()
    params = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not key:
                raise ParameterError(
                    f"Model parameters must look like key=value (e.g. {name}:{accepted[0] if accepted else 'key'}=...). "
                    f"Got {item!r} in {option('model', spec)}."
                )
            if key not in accepted:
                hint = f"accepted parameters: {', '.join(accepted)}" if accepted else "it takes no parameters"
                raise ParameterError(f"Unknown parameter {key!r} of model {name!r} in {option('model', spec)}; {hint}.")
            if key in params:
                raise ParameterError(f"Parameter {key!r} is given twice in {option('model', spec)}.")
            constraint = cls.parameter_constraints.get(key)
            params[key] = constraint.parse(value.strip()) if constraint is not None else _coerce(value.strip())
    model = cls(**params)
    model.spec = spec  # the model column holds the spec exactly as written
    return model
