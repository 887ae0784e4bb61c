"""``attribution transitions``: the tidy transition matrix, removal effects, order=auto scores, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest


def cli(*args):
    return subprocess.run([sys.executable, "-m", "attribution", *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def paths_csv(tmp_path):
    path = tmp_path / "paths.csv"
    pd.DataFrame({"path": ["a > b", "a", "b > b", "c > a > b"], "conversions": [1, 0, 1, 2.5],
                  "nulls": [0, 1, 1, 3], "revenue": [10, 0, 30, 7]}).to_csv(path, index=False)
    return path


def test_writes_the_transition_matrix_and_effects(paths_csv, tmp_path):
    out, eff = tmp_path / "t.csv", tmp_path / "e.json"
    r = cli("transitions", paths_csv, "--input", "paths", "--model", "markov:order=2", "-o", out,
            "--effects-output", eff, "-q")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out)
    assert list(t.columns) == ["from_state", "to_state", "count", "probability"]
    assert t.groupby("from_state")["probability"].sum().round(12).eq(1.0).all()
    assert ("c > a", "a > b") in set(zip(t["from_state"], t["to_state"]))
    effects = json.loads(eff.read_text())
    assert {e["channel"] for e in effects} == {"a", "b", "c"}
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert sum(e["conversions"] for e in effects) == pytest.approx(4.5)
    assert "order 2" in r.stdout


def test_order_auto_prints_the_scores(paths_csv):
    r = cli("transitions", paths_csv, "--input", "paths", "--model", "markov:order=auto")
    assert r.returncode == 0, r.stderr
    assert "order chosen by out-of-sample log-likelihood" in r.stdout
    assert "log_likelihood" in r.stdout and "(start)" in r.stdout


def test_rejects_a_non_markov_model(paths_csv):
    r = cli("transitions", paths_csv, "--input", "paths", "--model", "linear")
    assert r.returncode == 2
    assert "needs a Markov model spec" in r.stderr and "Traceback" not in r.stderr


def test_bad_order_is_one_clear_message(paths_csv):
    r = cli("transitions", paths_csv, "--input", "paths", "--model", "markov:order=0")
    assert r.returncode == 2
    assert "The 'order' parameter of Markov must be an integer >= 1 or 'auto'. Got 0 instead." in r.stderr
