"""SIGTERM and SIGINT stop a run cleanly; a later run removes the spill folders of runs that were killed.

Real processes, real signals: an out-of-core run (a small ``--memory-limit``) is started on a generated log and
signalled once its spill folder, or its temporary ``--detail`` file, exists.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from attribution.engines import spill
from prockit import big_log, leftovers, run, start, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals and /proc: Linux only")


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    # large enough that each stage lasts seconds (the signal must land inside it even when the test process is
    # scheduled late after it sees the stage's file)
    return big_log(tmp_path_factory.mktemp("log") / "events.parquet", n=500_000, users=100_000)


def _previous(out):
    (out / "roi.csv").write_bytes(b"previous table\n")
    (out / "facts.csv").write_bytes(b"previous facts\n")
    return {p: (out / p).read_bytes() for p in ("roi.csv", "facts.csv")}


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
@pytest.mark.parametrize("stage", ["spill", "detail"])
def test_a_signal_stops_the_run_and_leaves_nothing_behind(log, tmp_path, sig, code, stage):
    spill_dir, out = tmp_path / "spill", tmp_path / "out"
    spill_dir.mkdir()
    out.mkdir()
    before = _previous(out)
    proc = start(["run", log, "-m", "markov", "-m", "linear", "--memory-limit", "8MB", "--spill-dir", spill_dir,
                  "-o", out / "roi.csv", "--detail", out / "facts.csv", "-q"])
    # the spill folder exists through both passes; the --detail file is written (to a temporary file) in the second
    pattern = str(spill_dir / f"attribution-buckets-{proc.pid}-*") if stage == "spill" \
        else str(out / ".attribution-*.tmp")
    reached = wait_for(proc, pattern)
    if reached:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert reached, f"the run ended before its {stage} stage (exit {proc.returncode}): {err}"
    assert proc.returncode == code, err
    assert "Traceback" not in err and "internal error" not in err
    assert leftovers(spill_dir, out) == []
    assert {p: (out / p).read_bytes() for p in before} == before


def _owner_folder(parent, pid, identity=None):
    folder = parent / f"{spill.PREFIX}{pid}-test"
    folder.mkdir()
    (folder / "piece.arrows").write_bytes(b"x" * 100)
    (folder / spill.OWNER).write_text(" ".join(identity or spill._identity(pid)) + "\n")
    return folder


def test_stale_spill_folders_of_gone_processes_are_removed_live_ones_kept(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        stale = _owner_folder(tmp_path, gone.pid, spill._identity(gone.pid))  # its start time reads "-": gone
        ours = _owner_folder(tmp_path, os.getpid())
        other_live = _owner_folder(tmp_path, live.pid)
        reused = spill._identity(live.pid)
        reused[1] = str(int(reused[1]) - 1)  # same pid, another start time: the id was reused, the owner is gone
        reused_folder = tmp_path / f"{spill.PREFIX}{live.pid}-old"
        reused_folder.mkdir()
        (reused_folder / spill.OWNER).write_text(" ".join(reused) + "\n")
        foreign = spill._identity(gone.pid)
        foreign[2] = "pid:[1]"  # another pid namespace: its process cannot be seen from here, so it is kept
        foreign_folder = tmp_path / f"{spill.PREFIX}{gone.pid}-ns"
        foreign_folder.mkdir()
        (foreign_folder / spill.OWNER).write_text(" ".join(foreign) + "\n")
        unowned_new = tmp_path / f"{spill.PREFIX}{gone.pid}-new"  # no owner file yet, just created: kept
        unowned_new.mkdir()
        unrelated = tmp_path / "attribution-buckets-notapid"
        unrelated.mkdir()

        removed = spill.remove_stale(str(tmp_path))

        assert sorted(removed) == sorted([str(stale), str(reused_folder)])
        for kept in (ours, other_live, foreign_folder, unowned_new, unrelated):
            assert kept.is_dir()
    finally:
        live.kill()
        live.wait()


def test_a_killed_runs_spill_folder_is_removed_by_the_next_run(log, tmp_path):
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    args = ["run", log, "-m", "linear", "--memory-limit", "8MB", "--spill-dir", spill_dir, "-q"]
    proc = start(args)
    reached = wait_for(proc, str(spill_dir / f"attribution-buckets-{proc.pid}-*" / spill.OWNER))
    if reached:
        proc.kill()  # SIGKILL: no cleanup is possible
    proc.communicate(timeout=300)
    assert reached, "the run ended before its spill folder was written"
    assert len(leftovers(spill_dir)) == 1
    res = run(args, timeout=300)
    assert res.returncode == 0, res.stderr
    assert leftovers(spill_dir) == []
