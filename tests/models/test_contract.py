"""One contract over every registered model (DESIGN convention 8, after scikit-learn's parametrize_with_checks).

Each model, fitted on the same journeys: ``fit`` returns the model; credited conversions and revenue sum to the
input's totals (touchless conversions included, under ``(none)``); reruns are identical; renaming channels and
shuffling the input rows (without timestamp ties) change nothing; statistics of user-disjoint partitions merge
into the whole log's result; unfitted models and bad parameters raise. New models join automatically.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.io.events import Events
from attribution.exceptions import NotFittedError, ParameterError
from attribution.journeys.journeys import Journeys
from attribution.models import available_models, merge_stats, parse_model_spec
from testkit import events_frame

SPECS = available_models() + [s for s in ("markov:order=2", "markov:order=3,collapse=true", "shapley:game=rate")
                              if s.split(":")[0] in available_models() and s not in available_models()]

ROWS = [
    ("a", 0, "touch", "email"), ("a", 1.5, "touch", "search"), ("a", 2, "conversion", None, 120.0),
    ("a", 3, "touch", "social"), ("a", 9, "touch", "email"),
    ("b", 0.2, "touch", "display"), ("b", 4, "touch", "direct"), ("b", 4.5, "conversion", None, 30.0),
    ("c", 1, "touch", "search"), ("c", 1.1, "touch", "search"), ("c", 1.2, "touch", "direct"),
    ("d", 0, "conversion", None, 5.0),  # touchless
    ("e", 2, "touch", "display"), ("e", 5, "touch", "email"), ("e", 6, "conversion", None, 60.0),
    ("f", 0, "touch", "social"),
]


def fit(spec, journeys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_model_spec(spec).fit(journeys)


def frame_of(rows):
    return events_frame(rows)


def journeys_from_frame(frame):
    return Journeys.from_events(Events.from_frame(frame))


@pytest.fixture(scope="module")
def journeys():
    return journeys_from_frame(frame_of(ROWS))


@pytest.mark.parametrize("spec", SPECS)
def test_fit_returns_self_and_credits_sum_to_totals(spec, journeys):
    model = parse_model_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert model.fit(journeys) is model
    a = model.attribution_
    assert list(a.columns[:3]) == ["channel", "conversions", "revenue"]
    # rel=1e-12 / approx: credit shares summed in floats (a few ulps)
    assert a["conversions"].sum() == pytest.approx(4.0, rel=1e-12)
    assert a["revenue"].sum() == pytest.approx(215.0, rel=1e-12)
    assert (a["conversions"] >= -1e-12).all()
    assert a.set_index("channel").loc["(none)", "conversions"] == pytest.approx(1.0)
    assert list(a["channel"]) == sorted(a["channel"])


@pytest.mark.parametrize("spec", SPECS)
def test_rerun_is_identical(spec, journeys):
    pd.testing.assert_frame_equal(fit(spec, journeys).attribution_, fit(spec, journeys).attribution_)


@pytest.mark.parametrize("spec", SPECS)
def test_renaming_channels_changes_nothing_but_names(spec):
    # a renaming that reverses the alphabetical order of the channels
    mapping = {"email": "zz_mail", "search": "yy_search", "social": "xx_social", "display": "ww_display",
               "direct": "direct"}
    renamed = [r[:3] + ((mapping[r[3]] if r[3] else None),) + r[4:] for r in ROWS]
    a = fit(spec, journeys_from_frame(frame_of(ROWS))).attribution_.set_index("channel")
    b = fit(spec, journeys_from_frame(frame_of(renamed))).attribution_.set_index("channel")
    b.index = pd.Index([{v: k for k, v in mapping.items()}.get(c, c) for c in b.index], dtype=object, name="channel")
    # 1e-12: the same computation under renamed channels, so only their order (and the summation order) differs
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), check_exact=False, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec", SPECS)
def test_partition_statistics_merge_to_the_whole(spec, journeys):
    frame = frame_of(ROWS)
    left = frame[frame["user_id"].isin(["a", "c", "e"])]
    right = frame[~frame["user_id"].isin(["a", "c", "e"])]
    model = parse_model_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = [model.partial_stats(journeys_from_frame(p)) for p in (left, right)]
        merged = parse_model_spec(spec).fit_stats(merge_stats(model, stats)).attribution_
    whole = fit(spec, journeys).attribution_
    # rtol=1e-9: merged statistics are summed in another order; iterative fits (logistic) amplify that
    pd.testing.assert_frame_equal(merged.reset_index(drop=True), whole.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("spec", SPECS)
def test_unfitted_model_raises(spec):
    with pytest.raises(NotFittedError, match="not fitted"):
        parse_model_spec(spec).attribution_


@pytest.mark.parametrize("spec", SPECS)
def test_fit_rejects_non_journeys(spec):
    with pytest.raises(ParameterError, match="expects Journeys"):
        parse_model_spec(spec).fit(pd.DataFrame())


# ---------------------------------------------------------------------------------------------- properties
CHANNELS = ["direct", "email", "search", "social"]


@st.composite
def event_logs(draw):
    """Random logs: up to 6 users, distinct timestamps (no ties), touches and conversions with revenue."""
    n = draw(st.integers(1, 40))
    times = draw(st.lists(st.integers(0, 60 * 24 * 90), min_size=n, max_size=n, unique=True))
    rows = []
    for t in times:
        user = draw(st.sampled_from("uvwxyz"))
        if draw(st.integers(0, 3)) == 0:
            rows.append((user, t / (60 * 24), "conversion", None, float(draw(st.integers(0, 500)))))
        else:
            rows.append((user, t / (60 * 24), "touch", draw(st.sampled_from(CHANNELS))))
    return frame_of(rows)


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=event_logs(), seed=st.integers(0, 2**31 - 1))
def test_property_totals_and_row_order(spec, frame, seed):
    journeys = journeys_from_frame(frame)
    conv = frame["event"].eq("conversion")
    a = fit(spec, journeys).attribution_
    # abs 1e-9 / 1e-7 (revenue up to 500 per row): credit shares summed in floats; iterative fits included
    assert a["conversions"].sum() == pytest.approx(conv.sum(), abs=1e-9)
    assert a["revenue"].sum() == pytest.approx(frame.loc[conv, "revenue"].sum(), abs=1e-7)
    shuffled = frame.sample(frac=1.0, random_state=np.random.RandomState(seed % 2**32))
    b = fit(spec, journeys_from_frame(shuffled)).attribution_
    # rtol=1e-9: shuffled rows give the same journeys; iterative fits (logistic) see sums in another order
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
