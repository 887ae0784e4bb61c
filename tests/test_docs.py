"""The documentation builds strictly, its pages keep what they promise, and its code examples run.

``mkdocs build --strict`` fails on a broken link, a missing page or a docstring mkdocstrings cannot collect.
Without mkdocs (the ``docs`` extra) this module skips locally and FAILS under CI (``CI`` set).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
    if os.environ.get("CI"):
        pytest.fail("mkdocs is missing under CI: install the package with its test extras (the docs extra)",
                    pytrace=False)
    pytest.skip("mkdocs-material and mkdocstrings are not installed (pip install '.[docs]')", allow_module_level=True)


def test_mkdocs_build_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    # the reference holds the documented objects, read from the docstrings
    for name in ("RunResult", "plot_model_comparison", "compare_table", "scorecard", "TouchWeightModel"):
        assert name in api, name
    assert (tmp_path / "site" / "images" / "model_comparison.png").is_file()
    assert (tmp_path / "site" / "images" / "report.png").is_file()


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert pages and all(re.search(rf":\s*{re.escape(p)}\s*$", nav, re.M) for p in pages), pages


def test_every_model_has_its_formula_on_the_models_page():
    from attribution.models.registry import available_models

    text = (DOCS / "models.md").read_text(encoding="utf-8")
    missing = [m for m in available_models() if f"`{m}" not in text]
    assert not missing, missing


def test_the_new_model_example_runs(tmp_path):
    """The contributing page's model, pasted into a script, registers and runs by its spec string."""
    page = (DOCS / "contributing.md").read_text(encoding="utf-8")
    block = page.split("## A new model in one file", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    script = code + """
import attribution
from attribution.sim.datasets import sample_events_path
result = attribution.run(sample_events_path(), models=["linear", "recency:power=0", "recency:power=2"], progress=False)
t = result.table.set_index(["model", "channel"])
conv = t["conversions"].groupby(level="model").sum()
# power 0 weighs every touch alike: linear exactly (up to summation order, 1e-9 on counts in the hundreds)
assert (t.loc["recency:power=0", "conversions"] - t.loc["linear", "conversions"]).abs().max() < 1e-9
assert abs(conv["recency:power=2"] - conv["linear"]) < 1e-9, conv  # credit sums to the conversions
w = Recency(power=1).fit(result.journeys).touch_weights(result.journeys)
print("ok", round(float(w.sum()), 6))
"""
    path = tmp_path / "new_model.py"
    path.write_text(script, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok")


def test_readme_is_short_and_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 210
    assert 'pip install . && attribution demo' in readme
    assert 'pip install ".[test]" && pytest' in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -q ".[test]"' in ci  # the README's test command is the one CI runs
    for target in re.findall(r"\]\(((?:docs|notebooks)/[^)#]+)", readme):
        assert (ROOT / target).exists(), target
