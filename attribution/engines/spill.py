"""Spill folders of out-of-core runs: named for their process, and removed by a later run once that process is gone.

An out-of-core run writes its user buckets to ``attribution-buckets-<pid>-<random>`` under ``--spill-dir`` (or
the system's temporary folder) and removes the folder when it ends, whether it succeeds, fails or is stopped by
SIGINT or SIGTERM. A run killed outright (SIGKILL, a machine crash, the out-of-memory killer) cannot clean up; the
next run in the same folder removes such stale folders first.

A folder is stale only when its owner is certainly gone. Its ``owner`` file records the process id, the process's
start time (``/proc/<pid>/stat``, field 22), the pid namespace, the host name and the boot id. A folder of another
host or another pid namespace is never touched (its process cannot be seen from here); one from an earlier boot is
stale; otherwise it is stale when no process has that id, or when the process with that id started at another
time (the id was reused). A folder without its ``owner`` file (its run was stopped between creating the folder
and writing the file) is removed only when no process has the id in its name and it is older than
:data:`UNOWNED_AGE` seconds. Only folders owned by the current user are considered.

References
----------
.. [1] proc(5), Linux manual page: /proc/pid/stat (starttime), /proc/pid/ns/pid.
.. [2] kill(2), Linux manual page: signal 0 checks for the existence of a process.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time

from attribution.exceptions import OutputError, option

PREFIX = "attribution-buckets-"
OWNER = "owner"
#: seconds after which a spill folder without its owner file, whose process is gone, is removed
UNOWNED_AGE = 600
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)-[^/]+$")


class SpillFolder:
    """This run's spill folder under ``spill_dir`` (default: the system's temporary folder).

    Use as ``spill = SpillFolder(d)``, then ``try: folder = spill.create() ... finally: spill.remove()``: the
    path is recorded before the folder is made, so a signal at any point leaves nothing behind.
    """

    def __init__(self, spill_dir: str | None):
        self.parent = spill_dir if spill_dir is not None else tempfile.gettempdir()
        self.path: str | None = None

    def create(self) -> str:
        """Remove stale folders, create this run's folder and its ``owner`` file; returns the folder.

        Raises
        ------
        OutputError
            When the parent folder does not exist or no folder can be created in it (read-only, full, forbidden).
        """
        if not os.path.isdir(self.parent):
            raise OutputError(f"The spill folder {self.parent!r} does not exist ({option('spill-dir')}).")
        remove_stale(self.parent)
        try:
            for _ in range(100):
                self.path = os.path.join(self.parent, f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}")
                try:
                    os.mkdir(self.path, 0o700)
                    break
                except FileExistsError:
                    continue
            else:
                self.path = None
                raise OutputError(f"Cannot create a spill folder under {self.parent!r}: every name tried exists.")
            partial = os.path.join(self.path, OWNER + ".partial")
            with open(partial, "w", encoding="utf-8") as fh:
                fh.write(" ".join(_identity(os.getpid())) + "\n")
            os.replace(partial, os.path.join(self.path, OWNER))  # the owner file appears whole, or not at all
        except OSError as exc:
            raise OutputError(spill_message(self.parent, exc)) from None
        return self.path

    def remove(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


def spill_message(folder: str, exc: OSError) -> str:
    """One message for a spill folder that cannot be written."""
    return (f"Cannot write the out-of-core user buckets under {folder!r}: {exc.strerror or exc}. Free disk space "
            f"there or choose another folder with {option('spill-dir')} (or give a larger {option('memory-limit')} to run in memory).")


def remove_stale(parent: str) -> list[str]:
    """Remove the spill folders under ``parent`` whose process is gone; returns the removed paths."""
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in sorted(names):
        m = _NAME.match(name)
        if m is None:
            continue
        path = os.path.join(parent, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            continue
        if _is_stale(path, int(m.group(1)), st.st_mtime):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _is_stale(path: str, pid: int, mtime: float) -> bool:
    try:
        with open(os.path.join(path, OWNER), encoding="utf-8") as fh:
            recorded = fh.read().split()
    except OSError:
        return not _pid_exists(pid) and time.time() - mtime > UNOWNED_AGE
    if not recorded:  # written by an older version that was killed mid-write: as a folder without an owner
        return not _pid_exists(pid) and time.time() - mtime > UNOWNED_AGE
    if len(recorded) != 5 or recorded[0] != str(pid):
        return False  # not a file we wrote: leave the folder alone
    _, start, pidns, host, boot = recorded
    here = _identity(os.getpid())
    if host != here[3]:
        return False
    if boot != here[4] and "-" not in (boot, here[4]):
        return True  # written before the last reboot
    if pidns != here[2] or "-" in (pidns, here[2]):
        return False
    if not _pid_exists(pid):
        return True
    now_start = _start_time(pid)
    return now_start != "-" and start != "-" and now_start != start


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return True  # never a real owner: treat as alive (keep)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return fields[19]  # field 22 of the whole line; fields[0] is field 3 (state)
    except (OSError, IndexError):
        return "-"


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip() or "-"
    except OSError:
        return "-"


def _identity(pid: int) -> list[str]:
    """pid, start time, pid namespace, host, boot id (``-`` where unknown; no spaces in any)."""
    try:
        pidns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pidns = "-"
    host = re.sub(r"\s", "_", socket.gethostname()) or "-"
    return [str(pid), _start_time(pid), pidns.replace(" ", "_"), host,
            _read("/proc/sys/kernel/random/boot_id").replace(" ", "_")]
