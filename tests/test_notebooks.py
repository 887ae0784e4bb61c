"""The example notebooks run top to bottom against the installed package, and the committed ones are current.

Each notebook is built by ``scripts/make_notebooks.py`` (the one place its cells are written) and executed with
nbclient in a fresh kernel in a temporary folder, as Jupyter would run it. The committed copies in
``notebooks/`` must hold the same cells, with outputs and inline charts, so a code host shows them.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_notebooks.py"
CELL_TIMEOUT_S = 60  # a guard against a hung kernel, not a measurement: each notebook takes seconds

for module in ("nbclient", "nbformat", "ipykernel", "matplotlib"):
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            raise RuntimeError(f"{module} is missing under CI: install the package with its test extras")
        pytest.skip(f"{module} is not installed (pip install '.[test]')", allow_module_level=True)


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
NAMES = sorted(GEN.BOOKS)


def _images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


def test_the_four_notebooks_are_the_only_ones():
    assert sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) == NAMES
    assert len(NAMES) == 4


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_current_and_has_outputs(name):
    import nbformat

    committed = nbformat.read(str(ROOT / "notebooks" / name), as_version=4)
    built = GEN.build(GEN.BOOKS[name])
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in built.cells], (
        f"notebooks/{name} differs from scripts/make_notebooks.py: run python scripts/make_notebooks.py {name}")
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "every code cell was executed"
    assert not any(out.get("output_type") == "error" for c in code for out in c.get("outputs", []))
    assert _images(committed) >= 1, "the notebook shows at least one chart"
    assert (ROOT / "notebooks" / name).stat().st_size < 1_000_000, "keep the notebook under 1 MB (dpi 80)"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes_top_to_bottom(name, tmp_path):
    nb = GEN.execute(GEN.build(GEN.BOOKS[name]), str(tmp_path), timeout=CELL_TIMEOUT_S)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "every cell ran, in order"
    assert _images(nb) >= 1
    # the kernel ran in tmp_path (so it imported the installed package), and wrote nothing beside the notebooks
    assert not any((ROOT / "notebooks").glob("*.parquet")) and not any((ROOT / "notebooks").glob("*.db"))
