"""Simulated marketing event logs with a known ground truth (DESIGN convention 10).

:class:`Simulation` draws users, touches on about eight channels, conversions with revenue, repeat purchases and
the funnel milestones ``lead`` and ``qualified``, and returns the event log in the engine's canonical columns
together with a :class:`GroundTruth`: how many conversions (and how much revenue) each channel really caused.
Tests, notebooks and benchmarks use it to measure models against the truth, which observational data never
reveals (Gordon et al. 2019).

The causal model (additive hazards)
-----------------------------------
Each user ``u`` arrives at a uniform time ``a_u`` of the date range and has a purchase propensity ``z_u``
(lognormal, mean 1) and a touch activity ``m_u`` (lognormal, mean 1). Touches of channel ``c`` arrive as a
Poisson number (mean ``touch_rate[c] · m_u``, times the targeting factor below) at ``a_u`` plus a gamma
distributed delay (``timing[c]``): awareness channels come early in a journey, search and email late.

The user's conversion intensity (purchases per day) at time ``t`` is additive::

    λ_u(t) = z_u · baseline_rate  +  Σ_touches (effect[c] / τ_c) · exp(−(t − s) / τ_c) · 1[t ≥ s]

where ``s`` is a touch's time and ``τ_c = decay_days[c]``. The superposition theorem for Poisson processes makes
this exact to simulate and to decompose: the baseline term and every touch's term are independent Poisson
processes, and each conversion is drawn by exactly one of them, its *cause*. ``effect[c]`` is the expected number
of extra conversions one touch of ``c`` brings (over an unlimited horizon; the horizon's end truncates it).
Conversions do not change the intensity, so users can buy again (repeat conversions).

Definition of the truth
-----------------------
The true credit of channel ``c`` is the number of conversions that would not have happened had ``c``'s touches
not happened, all else (every other random draw) equal: its *removal effect* with common random numbers.
Under the additive construction this is exactly the number of conversions whose cause is a touch of ``c``
(``GroundTruth.table["conversions"]``, and ``revenue`` for their revenue), and its expectation given the touches
is ``Σ effect[c] · (1 − exp(−(end − s) / τ_c))`` over ``c``'s touches (``expected_conversions``). The random
numbers of a touch's conversions are keyed by the touch's index (a counter-based hash), so rerunning with
``effect[c] = 0`` and the same seed removes exactly those conversions and nothing else; a test checks it.
A channel whose ``effect`` is 0 gets exactly 0 true credit. Conversions caused by the baseline belong to no
channel (``GroundTruth.baseline_conversions``): observational models spread them over the touches that happen
to precede them, which is how they over-credit.

Causal traps (REFERENCES, "Data-driven and causal")
---------------------------------------------------
- ``targeting``: the touch rate of ``targeted_channels`` (search ads, email to engaged subscribers) is scaled by
  ``z_u ** targeting`` (normalised to mean 1), so those channels reach likely buyers more often. Their true
  effect per touch is unchanged; models that read correlation as causation over-credit them.
- ``navigational``: this share of conversions is preceded, minutes before, by a touch on
  ``navigational_channels`` (typing the URL = ``direct``, or a brand search ad = ``paid_search``/``brand``)
  that the purchase decision caused. Such touches are added after the conversions are drawn, so their true
  effect is 0; last-touch models credit them.

Milestones
----------
``lead`` and ``qualified`` are funnel markers, not causes. A converter becomes a lead before the first
conversion with probability ``lead_rate`` (uniformly between the first touch and the conversion) and is
qualified in between with probability ``qualified_rate``; a touched user who never converts becomes a lead
(between the first touch and the end of the range) with probability ``lead_rate_nonconverters``, and qualified
with ``qualified_rate_nonconverters``.

Limits
------
Effects are additive (no synergy between channels, so every sensible credit rule agrees on what "caused"
means); a purchase does not lower the intensity afterwards (no saturation), and touches do not react to
purchases except the navigational ones. Users with no event at all do not appear in the log.

References
----------
.. [1] Zhang, Wei & Ren, "Multi-touch attribution in online advertising with survival theory", ICDM 2014
   (additive hazard with time-decaying channel effects).
.. [2] Gordon, Zettelmeyer, Bhargava & Chapsky, "A comparison of approaches to advertising measurement:
   evidence from big field experiments at Facebook", Marketing Science 38(2), 2019.
.. [3] Kingman, *Poisson Processes*, Oxford 1993, ch. 2 (superposition and colouring theorems).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import special

from attribution.exceptions import ParameterError
from attribution.kernels.constants import BASELINE_CHANNEL
from attribution.kernels.userorder import splitmix64

__all__ = [
    "CHANNELS", "Simulation", "SimulationResult", "GroundTruth", "simulate", "make_spend", "DEFAULT_COSTS",
    "BASELINE",
]

CHANNELS = ("direct", "email", "paid_search", "organic_search", "social", "display", "affiliate", "referral")
BASELINE = BASELINE_CHANNEL
EVENT_ORDER = ("touch", "lead", "qualified", "conversion")  # tie order at equal timestamps
SECONDS_PER_DAY = 86_400
MAX_DAYS = 2**26 // SECONDS_PER_DAY  # 776 days: seconds fit the 26 bits of the sort key

# mean touches per user over the date range (before the range's end truncates late touches)
DEFAULT_TOUCH_RATE = {
    "direct": 1.2, "email": 1.6, "paid_search": 1.4, "organic_search": 1.3,
    "social": 1.5, "display": 2.0, "affiliate": 0.5, "referral": 0.5,
}
# gamma (shape, scale in days) of the delay from a user's arrival to a touch: the funnel stage of the channel
DEFAULT_TIMING = {
    "display": (1.0, 4.0), "social": (1.0, 5.0),
    "referral": (2.0, 4.0), "affiliate": (2.0, 5.0), "organic_search": (2.0, 5.0),
    "email": (3.0, 5.0), "paid_search": (3.0, 4.5), "direct": (4.0, 4.0),
}
# expected extra conversions per touch; direct visits are the user's own doing (no effect)
DEFAULT_EFFECT = {
    "direct": 0.0, "email": 0.015, "paid_search": 0.035, "organic_search": 0.03,
    "social": 0.02, "display": 0.012, "affiliate": 0.04, "referral": 0.03,
}
# mean delay (days) of a touch's effect
DEFAULT_DECAY_DAYS = {
    "direct": 1.0, "email": 2.0, "paid_search": 1.5, "organic_search": 2.0,
    "social": 7.0, "display": 10.0, "affiliate": 3.0, "referral": 3.0,
}
# campaign names and their shares per channel; None = no campaign (unpaid channels)
DEFAULT_CAMPAIGNS = {
    "direct": {None: 1.0},
    "organic_search": {None: 1.0},
    "email": {"newsletter": 0.5, "promo": 0.3, "nurture": 0.2},
    "paid_search": {"generic": 0.7, "brand": 0.3},
    "social": {"prospecting": 0.6, "video": 0.4},
    "display": {"prospecting": 0.7, "retargeting": 0.3},
    "affiliate": {"coupon_sites": 0.6, "content_partners": 0.4},
    "referral": {"partner_blog": 0.6, "review_site": 0.4},
}
# (source, medium) choices per channel, GA4 style (REFERENCES, "GA4's default channel group")
SOURCE_MEDIUM = {
    "direct": (("(direct)", "(none)"),),
    "email": (("newsletter", "email"),),
    "paid_search": (("google", "cpc"), ("bing", "cpc")),
    "organic_search": (("google", "organic"), ("bing", "organic")),
    "social": (("facebook", "paid_social"), ("instagram", "paid_social")),
    "display": (("dv360", "display"), ("criteo", "display")),
    "affiliate": (("awin", "affiliate"),),
    "referral": (("partner-blog.example", "referral"), ("reviews.example", "referral")),
}
# cost of one touch (media) per channel; channels absent here have no media spend
DEFAULT_COSTS = {"email": 0.05, "paid_search": 1.50, "social": 0.60, "display": 0.35, "affiliate": 2.00}
# fixed daily costs that are not media: (channel, campaign, cost_type, amount per day)
DEFAULT_FIXED_COSTS = (("email", None, "tools", 40.0),)


@dataclass
class GroundTruth:
    """What each channel really caused in one simulated log.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per channel (in ``Simulation.channels`` order): ``channel, touches, effect_per_touch,
        expected_conversions, conversions, revenue, expected_revenue, share, revenue_share``. ``conversions``
        and ``revenue`` are the realised removal effects (conversions caused by the channel's touches),
        ``expected_*`` their expectation given the touches; ``share`` = conversions / Σ conversions over
        channels (the incremental share), ``revenue_share`` likewise.
    baseline_conversions, baseline_revenue : float
        Conversions (revenue) no channel caused.
    total_conversions, total_revenue : float
        Everything in the log: ``table.conversions.sum() + baseline_conversions`` (exactly).
    causes : pandas.DataFrame
        One row per conversion row of the event log: ``row`` (its position in the events frame),
        ``cause`` (channel name or ``"(baseline)"``), ``cause_row`` (row of the causing touch, -1 for baseline).
    params : dict
        The simulation's parameters.
    """

    table: pd.DataFrame
    baseline_conversions: float
    baseline_revenue: float
    total_conversions: float
    total_revenue: float
    causes: pd.DataFrame
    params: dict

    def to_frame(self, include_baseline: bool = True) -> pd.DataFrame:
        """The channel table, with a final ``(baseline)`` row when ``include_baseline``."""
        t = self.table.copy()
        if include_baseline:
            row = {c: np.nan for c in t.columns}
            row.update(channel=BASELINE, touches=0, effect_per_touch=np.nan,
                       expected_conversions=np.nan, conversions=self.baseline_conversions,
                       revenue=self.baseline_revenue, expected_revenue=np.nan, share=np.nan, revenue_share=np.nan)
            t = pd.concat([t, pd.DataFrame([row])], ignore_index=True)
            t["touches"] = t["touches"].astype(np.int64)
        return t


@dataclass
class SimulationResult:
    """A simulated event log and its truth.

    Attributes
    ----------
    events : pandas.DataFrame
        Canonical columns ``user_id, timestamp, event, channel, campaign, revenue`` (plus ``source, medium``
        when asked), sorted by user, time and event (touch, lead, qualified, conversion at equal times).
    truth : GroundTruth
    """

    events: pd.DataFrame
    truth: GroundTruth

    def __iter__(self):  # ``events, truth = sim.run(seed=0)``
        return iter((self.events, self.truth))


def _mapping(default: dict, given, name: str) -> dict:
    out = dict(default)
    if given is not None:
        out.update(given)
    return out


@dataclass
class Simulation:
    """A generator of marketing event logs with a known ground truth (see the module docstring).

    Parameters
    ----------
    n_users : int
        Users simulated (users without any event do not appear in the log).
    channels : tuple of str
        Channel names; each needs an entry in ``touch_rate``, ``timing``, ``effect`` and ``decay_days`` (the
        defaults cover :data:`CHANNELS`).
    start : str
        First day of the date range (UTC).
    days : int
        Length of the date range; every event falls inside it.
    touch_rate : dict, optional
        Mean touches per user per channel (merged over the defaults).
    timing : dict, optional
        Channel → (gamma shape, scale in days) of the delay from a user's arrival to a touch.
    effect : dict, optional
        Channel → expected extra conversions per touch (≥ 0). ``direct`` defaults to 0.
    decay_days : dict, optional
        Channel → mean delay (days, > 0) of a touch's effect (exponential kernel).
    baseline_rate : float
        Conversions per user-day without any marketing, for a user of average propensity.
    propensity_sigma : float
        Log-scale standard deviation of the user's purchase propensity (mean 1).
    activity_sigma : float
        Log-scale standard deviation of the user's touch activity (mean 1).
    targeting : float
        Targeting-bias strength (0 = off): ``targeted_channels`` touch rates scale with ``propensity ** targeting``.
    targeted_channels : tuple of str
    navigational : float
        Share of conversions preceded by a navigational touch the purchase caused (0 = off).
    navigational_channels : dict
        Channel → probability of being the navigational touch (``paid_search`` ones get campaign ``brand``).
    navigational_minutes : float
        Mean minutes between a navigational touch and its conversion.
    revenue_mean, revenue_sigma : float
        Mean and log-scale standard deviation of the lognormal revenue of one conversion.
    lead_rate, qualified_rate : float
        Probabilities that a converter is a lead (qualified) before the first conversion.
    lead_rate_nonconverters, qualified_rate_nonconverters : float
        The same for users who never convert.
    campaigns : dict, optional
        Channel → {campaign or None: share}.
    source_medium : bool
        Also emit GA-style ``source`` and ``medium`` columns on touches.

    Examples
    --------
    >>> from attribution.sim.simulate import Simulation
    >>> events, truth = Simulation(n_users=500).run(seed=1)
    >>> set(events["event"]) <= {"touch", "lead", "qualified", "conversion"}
    True
    """

    n_users: int = 4000
    channels: tuple = CHANNELS
    start: str = "2026-01-01"
    days: int = 90
    touch_rate: dict | None = None
    timing: dict | None = None
    effect: dict | None = None
    decay_days: dict | None = None
    baseline_rate: float = 0.0012
    propensity_sigma: float = 1.0
    activity_sigma: float = 0.5
    targeting: float = 0.0
    targeted_channels: tuple = ("paid_search", "email")
    navigational: float = 0.0
    navigational_channels: dict = field(default_factory=lambda: {"direct": 0.6, "paid_search": 0.4})
    navigational_minutes: float = 10.0
    revenue_mean: float = 120.0
    revenue_sigma: float = 0.6
    lead_rate: float = 0.85
    qualified_rate: float = 0.7
    lead_rate_nonconverters: float = 0.12
    qualified_rate_nonconverters: float = 0.3
    campaigns: dict | None = None
    source_medium: bool = False

    def __post_init__(self):
        self.channels = tuple(self.channels)
        self.targeted_channels = tuple(self.targeted_channels)
        self.touch_rate = _mapping(DEFAULT_TOUCH_RATE, self.touch_rate, "touch_rate")
        self.timing = _mapping(DEFAULT_TIMING, self.timing, "timing")
        self.effect = _mapping(DEFAULT_EFFECT, self.effect, "effect")
        self.decay_days = _mapping(DEFAULT_DECAY_DAYS, self.decay_days, "decay_days")
        self.campaigns = _mapping(DEFAULT_CAMPAIGNS, self.campaigns, "campaigns")
        self.navigational_channels = dict(self.navigational_channels)
        self._check()

    # ------------------------------------------------------------------ validation (one message shape)
    def _fail(self, name, rule, value):
        raise ParameterError(f"The '{name}' parameter of Simulation must be {rule}. Got {value!r} instead.")

    def _check(self):
        if not isinstance(self.n_users, (int, np.integer)) or isinstance(self.n_users, bool) or self.n_users < 1:
            self._fail("n_users", "an integer >= 1", self.n_users)
        if (not isinstance(self.days, (int, np.integer)) or isinstance(self.days, bool) or self.days < 1
                or self.days > MAX_DAYS):
            self._fail("days", f"an integer between 1 and {MAX_DAYS}", self.days)
        if not self.channels or len(set(self.channels)) != len(self.channels) or not all(
                isinstance(c, str) and c for c in self.channels):
            self._fail("channels", "distinct non-empty channel names", self.channels)
        try:
            pd.Timestamp(self.start)
        except (ValueError, TypeError):
            self._fail("start", "a date such as '2026-01-01'", self.start)
        for name in ("touch_rate", "effect"):
            mapping = getattr(self, name)
            for c in self.channels:
                v = mapping.get(c)
                if not isinstance(v, (int, float, np.number)) or not np.isfinite(v) or v < 0:
                    self._fail(name, f"a mapping giving every channel a number >= 0 (channel {c!r})", v)
        for c in self.channels:
            v = self.decay_days.get(c)
            if not isinstance(v, (int, float, np.number)) or not np.isfinite(v) or v <= 0:
                self._fail("decay_days", f"a mapping giving every channel a number of days > 0 (channel {c!r})", v)
            t = self.timing.get(c)
            if (not isinstance(t, (tuple, list)) or len(t) != 2
                    or not all(isinstance(x, (int, float, np.number)) and x > 0 for x in t)):
                self._fail("timing", f"a mapping giving every channel a (shape > 0, scale_days > 0) pair (channel {c!r})", t)
            camp = self.campaigns.get(c)
            if (not isinstance(camp, dict) or not camp
                    or any(not isinstance(p, (int, float, np.number)) or p < 0 for p in camp.values())
                    or sum(camp.values()) <= 0):
                self._fail("campaigns", f"a mapping giving every channel {{campaign: share >= 0}} (channel {c!r})", camp)
        for name in ("baseline_rate", "propensity_sigma", "activity_sigma", "targeting", "revenue_sigma"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.number)) or not np.isfinite(v) or v < 0:
                self._fail(name, "a number >= 0", v)
        for name in ("revenue_mean", "navigational_minutes"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.number)) or not np.isfinite(v) or v <= 0:
                self._fail(name, "a number > 0", v)
        for name in ("navigational", "lead_rate", "qualified_rate", "lead_rate_nonconverters",
                     "qualified_rate_nonconverters"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.number)) or not 0 <= v <= 1:
                self._fail(name, "a probability between 0 and 1", v)
        unknown = [c for c in self.targeted_channels if c not in self.channels]
        if unknown:
            self._fail("targeted_channels", f"channels of the simulation ({', '.join(self.channels)})",
                       self.targeted_channels)
        nav = self.navigational_channels
        if (not nav or any(c not in self.channels for c in nav)
                or any(not isinstance(p, (int, float, np.number)) or p < 0 for p in nav.values())
                or sum(nav.values()) <= 0):
            self._fail("navigational_channels", "a mapping of simulation channels to shares >= 0", nav)

    # ------------------------------------------------------------------ presets
    @classmethod
    def sample(cls, **overrides) -> "Simulation":
        """The parameters of the bundled sample log (:mod:`attribution.sim.datasets`, written with seed 20260101 by
        ``scripts/make_sample_data.py``): 4,000 users, both traps on, ``source``/``medium`` columns."""
        params = dict(n_users=4000, targeting=1.0, navigational=0.35, source_medium=True)
        params.update(overrides)
        return cls(**params)

    def params(self) -> dict:
        """The parameters as a plain dict (JSON-friendly apart from ``None`` campaign keys)."""
        return asdict(self)

    # ------------------------------------------------------------------ the simulation
    def run(self, seed=None) -> SimulationResult:
        """Simulate one event log.

        Parameters
        ----------
        seed : int, numpy.random.SeedSequence or numpy.random.Generator
            All randomness comes from here (never from global state). The same int gives the same log;
            a Generator is advanced.

        Returns
        -------
        SimulationResult
            ``events`` and ``truth`` (it also unpacks: ``events, truth = sim.run(seed=0)``).
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        r_users, r_touch, r_base, r_nav, r_mile, r_keys = rng.spawn(6)
        keys = r_keys.integers(0, 2**63, size=3, dtype=np.uint64)
        n, days = int(self.n_users), float(self.days)

        # users
        arrival = r_users.uniform(0.0, days, n)
        z = _lognormal_mean1(r_users, self.propensity_sigma, n)
        activity = _lognormal_mean1(r_users, self.activity_sigma, n)

        t_user, t_time, t_chan, t_camp, camp_names = self._touches(r_touch, arrival, z, activity)
        mu = np.log(self.revenue_mean) - 0.5 * self.revenue_sigma**2
        src, touch_lam, c_time_touch, c_rev_touch = self._caused_conversions(keys, t_time, t_chan, mu)
        b_user, b_time, b_rev = self._baseline_conversions(r_base, arrival, z, mu)
        c_user = np.concatenate([t_user[src], b_user])
        c_sec = _seconds(np.concatenate([c_time_touch, b_time]))
        c_rev = np.round(np.concatenate([c_rev_touch, b_rev]), 2)
        c_cause_touch = np.concatenate([src, np.full(b_user.size, -1, np.int64)])

        nav_conv, nav_ch, nav_sec, nav_camp = self._navigational(r_nav, c_sec)
        touches = (np.concatenate([t_user, c_user[nav_conv]]), np.concatenate([_seconds(t_time), nav_sec]),
                   np.concatenate([t_chan, nav_ch]), np.concatenate([t_camp, nav_camp]))
        milestones = self._milestones(r_mile, n, arrival, touches[0], touches[1], c_user, c_sec)
        events, inverse = self._assemble(r_touch, touches, milestones, (c_user, c_sec, c_rev), camp_names)
        truth = self._truth(t_chan, src, touch_lam, touches[2], c_rev, c_cause_touch, inverse)
        return SimulationResult(events, truth)

    def _touches(self, rng, arrival, z, activity):
        """Touches: a loop per channel, vectorised over users. Returns user, time (days), channel code,
        campaign code and the campaign names the codes index."""
        n, days = arrival.size, float(self.days)
        t_user, t_time, t_chan, t_camp, camp_names = [], [], [], [], []
        for ci, c in enumerate(self.channels):
            lam = self.touch_rate[c] * activity
            if c in self.targeted_channels and self.targeting > 0:
                g = self.targeting
                lam = lam * z**g / np.exp(0.5 * g * (g - 1) * self.propensity_sigma**2)  # / E[z^g]: mean kept
            counts = rng.poisson(lam)
            users = np.repeat(np.arange(n), counts)
            shape, scale = self.timing[c]
            time = arrival[users] + rng.gamma(shape, scale, users.size)
            names = list(self.campaigns[c])
            probs = np.asarray([self.campaigns[c][k] for k in names], float)
            camp = rng.choice(len(names), size=users.size, p=probs / probs.sum())
            keep = time < days
            base = len(camp_names)
            camp_names.extend(names)
            t_user.append(users[keep])
            t_time.append(time[keep])
            t_chan.append(np.full(int(keep.sum()), ci, np.int64))
            t_camp.append(camp[keep] + base)
        return (np.concatenate(t_user), np.concatenate(t_time), np.concatenate(t_chan), np.concatenate(t_camp),
                camp_names)

    def _caused_conversions(self, keys, t_time, t_chan, mu):
        """Conversions caused by touches: counts and times keyed by the touch index (common random numbers).
        Returns each conversion's causing touch, every touch's expected conversions, and the conversions'
        times (days) and revenues."""
        chans, days = self.channels, float(self.days)
        effect = np.array([self.effect[c] for c in chans], float)
        tau = np.array([self.decay_days[c] for c in chans], float)
        n_touch = t_time.size
        horizon = days - t_time
        touch_lam = effect[t_chan] * -np.expm1(-horizon / tau[t_chan])
        touch_idx = np.arange(n_touch, dtype=np.uint64)
        n_caused = np.zeros(n_touch, np.int64)
        pos = touch_lam > 0
        n_caused[pos] = _poisson_inverse_cdf(_hash_uniform(keys[0], touch_idx[pos]), touch_lam[pos])
        src = np.repeat(np.arange(n_touch), n_caused)
        k = _within(n_caused)
        draw = (src.astype(np.uint64) << np.uint64(24)) | k.astype(np.uint64)
        v = _hash_uniform(keys[1], draw)
        tau_s = tau[t_chan[src]]
        delay = -tau_s * np.log1p(-v * -np.expm1(-horizon[src] / tau_s))  # truncated exponential on [0, horizon)
        c_time = np.minimum(t_time[src] + delay, np.nextafter(days, 0))
        c_rev = np.exp(mu + self.revenue_sigma * special.ndtri(_hash_uniform(keys[2], draw)))
        return src, touch_lam, c_time, c_rev

    def _baseline_conversions(self, rng, arrival, z, mu):
        """Conversions of the baseline intensity: user, time (days) and revenue."""
        days = float(self.days)
        b_count = rng.poisson(z * self.baseline_rate * (days - arrival))
        b_user = np.repeat(np.arange(arrival.size), b_count)
        b_time = rng.uniform(arrival[b_user], days)
        b_rev = np.exp(mu + self.revenue_sigma * rng.standard_normal(b_user.size))
        return b_user, b_time, b_rev

    def _navigational(self, rng, c_sec):
        """Navigational touches, caused by the purchase (no effect by construction): the conversions they
        precede, and their channel, second and campaign codes."""
        chans = self.channels
        nav_names = list(self.navigational_channels)
        nav_p = np.array([self.navigational_channels[c] for c in nav_names], float)
        is_nav = rng.random(c_sec.size) < self.navigational
        nav_conv = np.flatnonzero(is_nav)
        nav_ch = np.array([chans.index(c) for c in nav_names])[rng.choice(len(nav_names), nav_conv.size,
                                                                        p=nav_p / nav_p.sum())]
        gap = np.maximum(1, np.round(rng.exponential(self.navigational_minutes * 60.0, nav_conv.size))).astype(np.int64)
        nav_sec = np.maximum(c_sec[nav_conv] - gap, 0)
        offsets = np.cumsum([0] + [len(self.campaigns[c]) for c in chans])
        nav_camp = np.array([offsets[ci] + _nav_campaign(self.campaigns[c]) for ci, c in enumerate(chans)],
                            np.int64)[nav_ch]
        return nav_conv, nav_ch, nav_sec, nav_camp

    def _assemble(self, rng, touches, milestones, conversions, camp_names):
        """The event log: touches, milestones, conversions, sorted by user, time, event order, generation order.
        Returns the frame and each generated event's row in it."""
        t_user, t_sec, t_chan, t_camp = touches
        m_user, m_sec, m_kind = milestones
        c_user, c_sec, c_rev = conversions
        n, chans = int(self.n_users), self.channels
        n_t, n_m, n_c = t_user.size, m_user.size, c_user.size
        user = np.concatenate([t_user, m_user, c_user])
        sec = np.concatenate([t_sec, m_sec, c_sec])
        kind = np.concatenate([np.zeros(n_t, np.int64), m_kind, np.full(n_c, 3, np.int64)])
        # one int64 key (user | second < 2^26 | event order), stable: generation order breaks ties
        order = np.argsort((user << np.int64(28)) | (sec << np.int64(2)) | kind, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)

        channel = np.concatenate([t_chan, np.full(n_m + n_c, -1, np.int64)])[order]
        campaign = np.concatenate([t_camp, np.full(n_m + n_c, -1, np.int64)])[order]
        revenue = np.concatenate([np.full(n_t + n_m, np.nan), c_rev])[order]
        width = len(str(n - 1))
        uid = np.char.add("u", np.char.zfill(np.arange(n).astype(str), width))
        t0 = np.datetime64(pd.Timestamp(self.start).normalize().to_datetime64(), "s")
        cols = {
            "user_id": _strings(uid, user[order]),
            "timestamp": pa.array((t0 + sec[order].astype("timedelta64[s]")).astype("datetime64[ns]")),
            "event": _strings(EVENT_ORDER, kind[order]),
            "channel": _strings(chans, channel),
            "campaign": _strings(camp_names, campaign),
            "revenue": pa.array(revenue, pa.float64(), from_pandas=True),
        }
        if self.source_medium:
            cols["source"], cols["medium"] = self._source_medium(rng, channel)
        return pa.table(cols).to_pandas(), inverse

    def _truth(self, t_chan, src, touch_lam, all_t_chan, c_rev, c_cause_touch, inverse) -> GroundTruth:
        """What each channel really caused: conversions whose cause is one of its touches (DESIGN convention 10)."""
        chans = self.channels
        n_ch, n_c, n_b = len(chans), c_rev.size, c_rev.size - src.size
        effect = np.array([self.effect[c] for c in chans], float)
        caused_ch = np.concatenate([t_chan[src], np.full(n_b, -1, np.int64)])
        conv_by = np.bincount(t_chan[src], minlength=n_ch).astype(float)
        rev_by = np.bincount(t_chan[src], weights=c_rev[: src.size], minlength=n_ch)
        exp_by = np.bincount(t_chan, weights=touch_lam, minlength=n_ch)
        touches_by = np.bincount(all_t_chan, minlength=n_ch)
        inc = conv_by.sum()
        inc_rev = rev_by.sum()
        table = pd.DataFrame({
            "channel": pd.array(list(chans), dtype=object),
            "touches": touches_by.astype(np.int64),
            "effect_per_touch": effect,
            "expected_conversions": exp_by,
            "conversions": conv_by,
            "revenue": np.round(rev_by, 2),
            "expected_revenue": exp_by * self.revenue_mean,
            "share": conv_by / inc if inc > 0 else np.full(n_ch, np.nan),
            "revenue_share": rev_by / inc_rev if inc_rev > 0 else np.full(n_ch, np.nan),
        })
        conv_rows = inverse[inverse.size - n_c:]
        cause_row = np.where(c_cause_touch >= 0, inverse[np.maximum(c_cause_touch, 0)], -1)
        causes = pd.DataFrame({
            "row": conv_rows,
            "cause": np.array(list(chans) + [BASELINE], dtype=object)[np.where(caused_ch >= 0, caused_ch, n_ch)],
            "cause_row": cause_row,
        }).sort_values("row", kind="stable").reset_index(drop=True)
        return GroundTruth(
            table=table,
            baseline_conversions=float(n_b),
            baseline_revenue=float(np.round(c_rev[src.size:].sum(), 2)),
            total_conversions=float(n_c),
            total_revenue=float(np.round(c_rev.sum(), 2)),
            causes=causes,
            params=self.params(),
        )

    def _milestones(self, rng, n, arrival, t_user, t_sec, c_user, c_sec):
        big = np.iinfo(np.int64).max
        first_touch = np.full(n, big, np.int64)
        np.minimum.at(first_touch, t_user, t_sec)
        last_touch = np.full(n, -1, np.int64)
        np.maximum.at(last_touch, t_user, t_sec)
        first_conv = np.full(n, big, np.int64)
        np.minimum.at(first_conv, c_user, c_sec)
        end = int(self.days) * SECONDS_PER_DAY - 1
        converter = first_conv < big
        touched = first_touch < big
        arrival_s = _seconds(arrival)
        # converters: lead (then qualified) between the first touch (or arrival) and the first conversion
        lo = np.where(touched, np.minimum(first_touch, np.where(converter, first_conv, end)), arrival_s)
        hi = np.where(converter, first_conv, end)
        lead_p = np.where(converter, self.lead_rate, np.where(touched, self.lead_rate_nonconverters, 0.0))
        qual_p = np.where(converter, self.qualified_rate, self.qualified_rate_nonconverters)
        u = rng.random((4, n))
        is_lead = u[0] < lead_p
        is_qual = is_lead & (u[1] < qual_p)
        lead_sec = lo + np.floor(u[2] * (hi - lo)).astype(np.int64)
        qual_sec = lead_sec + np.floor(u[3] * (hi - lead_sec)).astype(np.int64)
        lu, qu = np.flatnonzero(is_lead), np.flatnonzero(is_qual)
        return (np.concatenate([lu, qu]), np.concatenate([lead_sec[lu], qual_sec[qu]]),
                np.concatenate([np.ones(lu.size, np.int64), np.full(qu.size, 2, np.int64)]))

    def _source_medium(self, rng, channel_codes):
        n_opts = [len(SOURCE_MEDIUM.get(c, ((c, c),))) for c in self.channels]
        offsets = np.cumsum([0] + n_opts)
        options = [o for c in self.channels for o in SOURCE_MEDIUM.get(c, ((c, c),))]
        code = np.full(channel_codes.size, -1, np.int64)
        for ci in range(len(self.channels)):  # a loop per channel
            rows = np.flatnonzero(channel_codes == ci)
            code[rows] = offsets[ci] + rng.integers(0, n_opts[ci], rows.size)
        return _strings([o[0] for o in options], code), _strings([o[1] for o in options], code)


def _nav_campaign(campaigns: dict) -> int:
    """Position of a navigational touch's campaign: ``brand`` when the channel has one, else its first."""
    names = list(campaigns)
    return names.index("brand") if "brand" in names else 0


def simulate(seed=None, **params) -> SimulationResult:
    """Shortcut for ``Simulation(**params).run(seed)``."""
    return Simulation(**params).run(seed)


# ---------------------------------------------------------------------- spend
def make_spend(events: pd.DataFrame, costs: dict | None = None, fixed_costs=DEFAULT_FIXED_COSTS,
               start=None, days: int | None = None) -> pd.DataFrame:
    """A daily spend table consistent with a simulated log.

    Media spend of a (day, channel, campaign) is its touches × the channel's cost per touch; channels without a
    cost (``direct``, ``organic_search``, ``referral`` by default) have no media spend and no rows.
    ``fixed_costs`` adds daily non-media costs (e.g. the email platform as ``cost_type`` ``tools``).

    Parameters
    ----------
    events : pandas.DataFrame
        A simulated event log (``timestamp, event, channel, campaign``).
    costs : dict, optional
        Channel → cost of one touch (default :data:`DEFAULT_COSTS`).
    fixed_costs : sequence of (channel, campaign, cost_type, amount per day)
    start, days : optional
        The date range (default: the days spanned by the events).

    Returns
    -------
    pandas.DataFrame
        ``date`` (datetime64 day), ``channel``, ``campaign``, ``cost_type``, ``spend`` (rounded to cents), one
        row per day × channel × campaign × cost type of the range (zero-spend days included), sorted.
    """
    costs = dict(DEFAULT_COSTS if costs is None else costs)
    touches = events.loc[(events["event"] == "touch").to_numpy(), ["timestamp", "channel", "campaign"]]
    touches = touches[touches["channel"].isin(list(costs)).to_numpy()]
    day = touches["timestamp"].to_numpy().astype("datetime64[D]")
    if start is not None:
        first = np.datetime64(pd.Timestamp(start).date(), "D")
    else:
        first = day.min() if day.size else np.datetime64(events["timestamp"].min(), "D")
    n_days = int(days) if days is not None else int((day.max() - first).astype(int)) + 1 if day.size else 1
    dates = first + np.arange(n_days).astype("timedelta64[D]")
    d = (day - first).astype(np.int64)
    inside = (d >= 0) & (d < n_days)
    frame = pd.DataFrame({"channel": touches["channel"].to_numpy()[inside],
                          "campaign": touches["campaign"].fillna("").to_numpy()[inside], "d": d[inside]})
    counts = frame.groupby(["channel", "campaign", "d"], sort=True).size()
    pairs = counts.index.droplevel("d").unique()  # the (channel, campaign) pairs with touches
    grid = np.zeros((len(pairs), n_days))
    pair_code = pairs.get_indexer(counts.index.droplevel("d"))
    grid[pair_code, counts.index.get_level_values("d").to_numpy()] = counts.to_numpy()
    cost = np.array([float(costs[c]) for c in pairs.get_level_values(0)])
    campaign = np.array(pairs.get_level_values(1), dtype=object)
    frames = [pd.DataFrame({
        "date": np.tile(dates, len(pairs)),
        "channel": np.repeat(np.array(pairs.get_level_values(0), dtype=object), n_days),
        "campaign": np.repeat(np.where(campaign == "", None, campaign), n_days),
        "cost_type": "media",
        "spend": np.round(grid * cost[:, None], 2).ravel(),
    })]
    for channel, campaign, cost_type, amount in fixed_costs:
        frames.append(pd.DataFrame({"date": dates, "channel": channel, "campaign": campaign,
                                    "cost_type": cost_type, "spend": round(float(amount), 2)}))
    out = pd.concat(frames, ignore_index=True)
    out["date"] = out["date"].astype("datetime64[s]")
    out = out.sort_values(["date", "channel", "campaign", "cost_type"], kind="stable", na_position="first")
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------- helpers
def _strings(names, codes: np.ndarray) -> pa.Array:
    """``names[codes]`` as an Arrow string array, null where ``codes < 0`` (or the name is None)."""
    codes = np.asarray(codes, np.int64)
    dictionary = pa.array(list(names), pa.string())
    return dictionary.take(pa.array(np.maximum(codes, 0), mask=codes < 0)) if len(names) else pa.nulls(
        codes.size, pa.string())


def _poisson_inverse_cdf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Smallest k with P(N <= k) >= u for N ~ Poisson(lam): a loop over k (a handful for small rates)."""
    k = np.zeros(u.size, np.int64)
    p = np.exp(-lam)
    cdf = p.copy()
    todo = np.flatnonzero(u > cdf)
    n = 0
    while todo.size:
        n += 1
        k[todo] = n
        p[todo] *= lam[todo] / n
        cdf[todo] += p[todo]
        todo = todo[(u[todo] > cdf[todo]) & (p[todo] > 0)]  # p underflows long after cdf reaches u
    return k


def _lognormal_mean1(rng, sigma, n):
    return np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma**2)


def _seconds(days_float: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(days_float) * SECONDS_PER_DAY).astype(np.int64)


def _within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[i] − 1 for every i, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_BELOW_ONE = np.nextafter(1.0, 0.0)


def _hash_uniform(key, index: np.ndarray) -> np.ndarray:
    """Counter-based uniforms in (0, 1): SplitMix64 of ``key + (index + 1) · golden``.

    The same (key, index) always gives the same number, whatever else is drawn, which is what makes the
    counterfactual "same world without channel c" exact (common random numbers per touch).

    References
    ----------
    .. [1] Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014.
    """
    with np.errstate(over="ignore"):
        z = splitmix64(np.asarray(np.uint64(key) + (np.asarray(index, np.uint64) + np.uint64(1)) * _GOLDEN,
                                  np.uint64))
    u = ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 2**53)
    return np.minimum(u, _BELOW_ONE)  # the top value would round to 1.0
