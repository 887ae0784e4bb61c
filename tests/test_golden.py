"""The numbers of the bundled sample stay as committed: every model × run variant, in memory and out of core.

The golden files are written by ``scripts/make_golden.py`` (its docstring lists the runs); this test runs the
same script into a temporary folder and compares file by file. A code change that moves a number must
regenerate the files in the same commit and say why.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"


def _script():
    spec = importlib.util.spec_from_file_location("make_golden", ROOT / "scripts" / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False,
                                                                                na_values=[""])


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    written = _script().write_golden(out)
    return out, sorted(p.name for p in written)


def test_golden_files_are_the_committed_set(fresh):
    _, names = fresh
    assert names == sorted(p.name for p in GOLDEN.iterdir())


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.iterdir()))
def test_golden_output_unchanged(fresh, name):
    out, _ = fresh
    new, old = _read(out / name), _read(GOLDEN / name)
    assert list(new.columns) == list(old.columns)
    assert len(new) == len(old)
    for col in old.columns:
        a, b = new[col], old[col]
        if pd.api.types.is_float_dtype(b) and pd.api.types.is_float_dtype(a):
            assert (a.isna() == b.isna()).all(), col
            # 1e-12 relative: the files are byte-identical on the machine that wrote them; another CPU may only
            # reorder float sums (about 1e-16 relative per addition over at most ~1e4 terms)
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12, atol=1e-9, err_msg=col)
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), col


def test_golden_run_is_byte_identical_when_repeated(fresh, tmp_path):
    out, _ = fresh
    module = _script()
    for name, args in module.golden_runs():
        if name == "plain-mem":
            break
    again = tmp_path / "again"
    again.mkdir()
    # one variant run twice gives the same bytes (determinism: same input, same output)
    from typer.testing import CliRunner

    from attribution.cli.app import app
    from attribution.sim.datasets import sample_events_path

    argv = [a.format(events=sample_events_path(), out=again / "t.csv") for a in args]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    assert (again / "t.csv").read_bytes() == (out / "plain-mem.csv").read_bytes()
