"""Named simulation presets (``attribution simulate --scenario NAME``): worlds with a known causal truth.

Each preset is a set of :class:`~attribution.sim.simulate.Simulation` parameters that switches one trap on (or
none), so that a scorecard (:mod:`attribution.sim.evaluate`) shows which trap moves which model:

``no_confounding``
    Eight retail channels, no targeting, no navigational touches. Users still differ in purchase intent
    (lognormal propensity), but touches arrive independently of it: correlation is causation here.
``targeting``
    As ``no_confounding``, but ``paid_search`` and ``email`` reach likely buyers more often (touch rate
    ∝ propensity^1.5): they look effective without being more so.
``navigational``
    As ``no_confounding``, but 40% of conversions are preceded, minutes before, by a ``direct`` visit or a
    brand ``paid_search`` click that the purchase decision caused (true effect 0).
``b2b``
    A 240-day business-to-business cycle with slow-acting channels (``webinar`` and ``trade_show`` effects
    last weeks: mean delays of 25 and 30 days), a low baseline, moderate targeting of ``paid_search`` and
    ``email`` and navigational ``direct`` visits before deals.
``many_channels``
    Fourteen channels, one of which (``ctv``) has no effect at all although it is bought and shown often, plus
    ``direct`` (no effect); moderate targeting and navigational touches.
``retail``
    Both traps at the strength of the bundled sample (targeting 1.0, navigational 0.35).

References
----------
.. [1] Gordon, Zettelmeyer, Bhargava & Chapsky, "A comparison of approaches to advertising measurement",
   Marketing Science 38(2), 2019 (observational methods against experimental truth).
"""

from __future__ import annotations

from attribution.exceptions import ParameterError

__all__ = ["SCENARIOS", "scenario_params", "scenario_names"]

_B2B_CHANNELS = ("webinar", "trade_show", "email", "linkedin", "paid_search", "organic_search", "content",
                 "direct")
_B2B = dict(
    channels=_B2B_CHANNELS,
    days=240,
    touch_rate={"webinar": 0.8, "trade_show": 0.3, "email": 3.0, "linkedin": 1.5, "paid_search": 1.2,
                "organic_search": 1.0, "content": 1.5, "direct": 1.5},
    timing={"webinar": (2.0, 15.0), "trade_show": (1.5, 20.0), "email": (2.0, 25.0), "linkedin": (1.0, 15.0),
            "paid_search": (3.0, 12.0), "organic_search": (2.0, 12.0), "content": (1.0, 20.0),
            "direct": (4.0, 12.0)},
    effect={"webinar": 0.08, "trade_show": 0.12, "email": 0.01, "linkedin": 0.015, "paid_search": 0.03,
            "organic_search": 0.025, "content": 0.02, "direct": 0.0},
    decay_days={"webinar": 25.0, "trade_show": 30.0, "email": 5.0, "linkedin": 12.0, "paid_search": 3.0,
                "organic_search": 4.0, "content": 15.0, "direct": 1.0},
    campaigns={"webinar": {"product_demo": 0.6, "industry_panel": 0.4}, "trade_show": {None: 1.0},
               "email": {"nurture": 0.7, "newsletter": 0.3}, "linkedin": {"abm": 1.0},
               "paid_search": {"generic": 0.7, "brand": 0.3}, "organic_search": {None: 1.0},
               "content": {None: 1.0}, "direct": {None: 1.0}},
    baseline_rate=0.0003,
    targeting=1.0,
    targeted_channels=("paid_search", "email"),
    navigational=0.3,
    navigational_channels={"direct": 0.7, "paid_search": 0.3},
    revenue_mean=8000.0,
    revenue_sigma=0.8,
)

_EXTRA = ("tiktok", "podcast", "ctv", "push", "sms", "video")
_MANY = dict(
    channels=("direct", "email", "paid_search", "organic_search", "social", "display", "affiliate", "referral")
    + _EXTRA,
    touch_rate={"tiktok": 1.0, "podcast": 0.4, "ctv": 1.8, "push": 1.2, "sms": 0.6, "video": 0.9},
    timing={"tiktok": (1.0, 4.0), "podcast": (1.0, 6.0), "ctv": (1.0, 5.0), "push": (3.0, 4.0),
            "sms": (3.0, 4.0), "video": (1.0, 5.0)},
    effect={"tiktok": 0.015, "podcast": 0.05, "ctv": 0.0, "push": 0.01, "sms": 0.02, "video": 0.018},
    decay_days={"tiktok": 3.0, "podcast": 8.0, "ctv": 6.0, "push": 0.5, "sms": 1.0, "video": 5.0},
    campaigns={c: {None: 1.0} for c in _EXTRA},
    targeting=0.5,
    navigational=0.2,
)

SCENARIOS: dict[str, dict] = {
    "no_confounding": dict(targeting=0.0, navigational=0.0),
    "targeting": dict(targeting=1.5, navigational=0.0),
    "navigational": dict(targeting=0.0, navigational=0.4),
    "b2b": _B2B,
    "many_channels": _MANY,
    "retail": dict(targeting=1.0, navigational=0.35),
}


def scenario_names() -> list[str]:
    """The preset names, in documentation order."""
    return list(SCENARIOS)


def scenario_params(name: str, **overrides) -> dict:
    """The :class:`~attribution.sim.simulate.Simulation` keywords of preset ``name`` (``overrides`` win).

    Raises
    ------
    ParameterError
        For an unknown preset name.
    """
    if name not in SCENARIOS:
        raise ParameterError(f"Unknown scenario {name!r}. Available scenarios: {', '.join(SCENARIOS)}.")
    params = {k: (dict(v) if isinstance(v, dict) else v) for k, v in SCENARIOS[name].items()}
    params.update(overrides)
    return params
