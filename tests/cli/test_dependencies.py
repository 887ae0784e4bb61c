"""The command line needs only the declared dependencies, and imports the heavy ones when needed: typer vendors its
own click from 0.2x on, so ``pip install .`` brings no ``click``, and nothing of ours may import it."""

import subprocess
import sys


def test_the_command_line_runs_without_click(tmp_path):
    code = ("import sys; sys.modules['click'] = None  # as if not installed: importing it raises ImportError\n"
            "from attribution.cli.app import main\n"
            "main(['run', '--help'])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "--lookback-days" in res.stdout


def test_starting_the_command_line_does_not_import_scipy(tmp_path):
    """scipy's solvers are imported when a Markov chain is first built (or preloaded by a run that fits one),
    not when the package or the command line is imported: ``attribution --help`` and runs without Markov
    never pay for them."""
    code = ("import sys\n"
            "import attribution, attribution.cli.app\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'sklearn', 'matplotlib')))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"


def test_a_markov_run_preloads_the_solvers_and_fits(tmp_path):
    """A run whose models import modules when first needed starts those imports on a background thread
    (attribution.kernels.preload) and the fit finds them."""
    code = ("import sys, threading, pandas as pd, attribution\n"
            "seen = []\n"
            "start = threading.Thread.start\n"
            "def spy(self):\n"
            "    seen.append(self.name)\n"
            "    start(self)\n"
            "threading.Thread.start = spy\n"
            "log = pd.DataFrame({'user_id': ['a', 'a', 'b'], 'timestamp': pd.to_datetime(['2026-01-01', '2026-01-02',"
            " '2026-01-03']), 'event': ['touch', 'conversion', 'touch'], 'channel': ['email', None, 'search']})\n"
            "result = attribution.run(log, models=['markov'])\n"
            "print('attribution-preload' in seen, 'scipy.sparse.linalg' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["True", "True"]
