"""The command line needs only the declared dependencies: typer vendors its own click from 0.2x on, so
``pip install .`` brings no ``click``, and nothing of ours may import it."""

import subprocess
import sys


def test_the_command_line_runs_without_click(tmp_path):
    code = ("import sys; sys.modules['click'] = None  # as if not installed: importing it raises ImportError\n"
            "from attribution.cli.app import main\n"
            "main(['run', '--help'])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "--lookback-days" in res.stdout
