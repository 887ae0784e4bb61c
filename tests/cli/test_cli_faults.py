"""Full disks, unwritable folders and file modes: exit 2 with one message, nothing left behind, modes as users
expect. Real processes; the full and read-only disks are small tmpfs mounts (skipped where mounting is not
allowed)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from prockit import big_log, leftovers, run


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return big_log(tmp_path_factory.mktemp("log") / "events.parquet", n=60_000, users=12_000)


@pytest.fixture
def mount(tmp_path):
    """``mount(name, size, ro=False)``: a tmpfs of ``size`` at ``tmp_path/name`` (skips where not allowed)."""
    mounted = []

    def make(name, size="256k", ro=False, before=None):
        point = tmp_path / name
        point.mkdir()
        options = f"size={size},mode=0755"
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root on Linux")
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True,
                             text=True)
        if res.returncode != 0:
            pytest.skip(f"this machine does not allow mounting a tmpfs: {res.stderr.strip()}")
        mounted.append(point)
        for file, data in (before or {}).items():
            (point / file).write_bytes(data)
        if ro:
            res = subprocess.run(["mount", "-o", "remount,ro", str(point)], capture_output=True, text=True)
            if res.returncode != 0:
                pytest.skip(f"this machine does not allow a read-only remount: {res.stderr.strip()}")
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _one_message(res):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


@pytest.fixture
def broken_log(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("who,when\n1,2\n")  # no canonical columns: reading it would be an input error
    return path


@pytest.mark.parametrize("where", ["/proc", "missing", "folder", "read-only"])
def test_an_unwritable_output_is_found_before_any_work(broken_log, tmp_path, mount, where):
    if where == "/proc":
        target = "/proc/x.csv"
    elif where == "missing":
        target = tmp_path / "no" / "such" / "x.csv"
    elif where == "folder":
        target = tmp_path
    else:
        target = mount("ro", ro=True) / "x.csv"
    for option in ("-o", "--detail"):
        message = _one_message(run(["run", broken_log, option, target]))
        assert str(target) in message  # the output, not the (also broken) input, is what is reported
        assert "broken.csv" not in message


def test_an_unwritable_spill_folder_is_found_before_any_work(broken_log, mount):
    ro = mount("ro", ro=True)
    message = _one_message(run(["run", broken_log, "--spill-dir", ro]))
    assert "--spill-dir" in message and str(ro) in message


def test_a_full_spill_disk_is_exit_2_and_leaves_nothing(log, tmp_path, mount):
    disk = mount("spill", size="256k")
    (tmp_path / "roi.csv").write_bytes(b"previous\n")
    res = run(["run", log, "-m", "linear", "--memory-limit", "4MB", "--spill-dir", disk, "-o", tmp_path / "roi.csv",
               "-q"])
    message = _one_message(res)
    assert "No space left on device" in message and "--spill-dir" in message
    assert leftovers(disk, tmp_path) == []
    assert (tmp_path / "roi.csv").read_bytes() == b"previous\n"


@pytest.mark.parametrize("partitioned", [False, True])
def test_a_full_output_disk_is_exit_2_and_keeps_the_previous_files(log, tmp_path, mount, partitioned):
    previous = {"roi.csv": b"previous table\n", "facts.csv": b"previous facts\n"}
    disk = mount("out", size="512k", before=previous)
    args = ["run", log, "-m", "linear", "-o", disk / "roi.csv", "--detail", disk / "facts.csv", "-q"]
    if partitioned:
        args += ["--memory-limit", "4MB", "--spill-dir", tmp_path]
    message = _one_message(run(args))
    assert "No space left on device" in message and "facts.csv" in message
    assert leftovers(disk, tmp_path) == []
    assert {p: (disk / p).read_bytes() for p in previous} == previous


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o027, 0o002])
def test_new_outputs_follow_the_umask(tmp_path, tmp_events, umask):
    events = tmp_events([("a", 0, "touch", "email"), ("a", 1, "conversion", None, 10.0)])
    outs = [tmp_path / "roi.csv", tmp_path / "roi.parquet", tmp_path / "facts.csv"]
    res = run(["run", events, "-o", outs[0], "-q"], preexec_fn=lambda: os.umask(umask))
    assert res.returncode == 0, res.stderr
    res = run(["run", events, "-o", outs[1], "--detail", outs[2], "-q"], preexec_fn=lambda: os.umask(umask))
    assert res.returncode == 0, res.stderr
    for out in outs:
        assert _mode(out) == 0o666 & ~umask, out


@pytest.mark.parametrize("partitioned", [False, True])
def test_a_replaced_output_keeps_its_mode(tmp_path, log, partitioned):
    outs = {tmp_path / "roi.csv": 0o644, tmp_path / "facts.csv": 0o640}
    for out, mode in outs.items():
        out.write_bytes(b"previous\n")
        os.chmod(out, mode)
    args = ["run", log, "-m", "linear", "-o", tmp_path / "roi.csv", "--detail", tmp_path / "facts.csv", "-q"]
    if partitioned:
        args += ["--memory-limit", "4MB", "--spill-dir", tmp_path]
    res = run(args, preexec_fn=lambda: os.umask(0o077))
    assert res.returncode == 0, res.stderr
    for out, mode in outs.items():
        assert out.read_bytes() != b"previous\n"
        assert _mode(out) == mode, out
