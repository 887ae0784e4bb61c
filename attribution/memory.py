"""Process-level memory settings for command-line runs.

A run allocates and frees arrays of tens to hundreds of megabytes, one after another. glibc serves every block
above 32 MB with its own ``mmap`` and gives it back to the kernel on ``free``; the next array then faults in
fresh, zeroed pages. On virtual machines that hand freed guest memory back to the host (free page reporting,
ballooning, DAMON reclaim: Firecracker, most cloud VMs) each of those faults is a round trip to the host, and a
10M-event run measured on such a machine spent more time in the kernel (4–7 s) than in its own code (6 s).

:func:`keep_freed_memory` makes the command line's process keep freed memory for its next arrays instead: glibc
serves large blocks from the heap (``M_MMAP_MAX = 0``) and does not trim it (``M_TRIM_THRESHOLD``), and Arrow
allocates from that same heap (its system memory pool) rather than from its own mimalloc pool, so that numpy reuses
what the Parquet reader freed and the other way round. Measured on such a VM, the kernel time of the 10M-event run
fell from 4–7 s to about 1.5–3 s. The peak resident size stays that of the largest live set plus some
fragmentation; freed memory is returned when the process ends. Only the ``attribution`` command does this, never ``import attribution`` (a notebook's process is its
owner's), and only on glibc; ``ATTRIBUTION_KEEP_MEMORY=0`` turns it off.

References
----------
.. [1] mallopt(3), Linux manual page: M_MMAP_MAX, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD.
.. [2] Linux kernel documentation, "Free Page Reporting" (mm/page_reporting).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from attribution.exceptions import option

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8


def _mallopt():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt


def one_arena_under_address_limit() -> bool:
    """Under an address-space limit (``ulimit -v``), let glibc use one malloc arena; True when set.

    Each thread that allocates otherwise gets its own arena, and each arena reserves 64 MB of address space
    (up to 8 arenas per core): on a 2-core machine about 1 GB of a 1.5 GB ``ulimit -v`` went to reservations,
    and a run failed with a resident size of 630 MB. Resident memory is unchanged; threads share one arena.
    """
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return False
    if soft == resource.RLIM_INFINITY:
        return False
    mallopt = _mallopt()
    return bool(mallopt is not None and mallopt(_M_ARENA_MAX, 1))


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory in the process for reuse; True when the setting took effect."""
    if os.environ.get("ATTRIBUTION_KEEP_MEMORY", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    mallopt = _mallopt()
    if mallopt is None:
        return False
    if not (mallopt(_M_MMAP_MAX, 0) and mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)):
        return False
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())  # Arrow's buffers from the same kept heap (not mimalloc's own)
    return True


# --- how much memory this process may use ---------------------------------------------------------------------

_NO_LIMIT = 2**60  # cgroup v1 writes "no limit" as a page-rounded 2**63 - 1


def memory_budget(cgroup_root: str = "/sys/fs/cgroup", proc: str = "/proc") -> tuple[int, str]:
    """Bytes this process can still allocate, and what sets that figure.

    The least of: the system's ``MemAvailable``; for every cgroup (v2 ``memory.max`` or v1
    ``memory.limit_in_bytes``) on the path of this process, its limit less its usage (page cache that can be
    dropped, ``inactive_file``, not counted as used); and the address-space limit ``RLIMIT_AS`` (``ulimit -v``)
    less this process's current size (``VmSize``).

    Returns
    -------
    (bytes, source)
        ``source`` names the binding limit: ``"MemAvailable"``, ``"cgroup memory limit"`` or
        ``"address-space limit (ulimit -v)"``.

    References
    ----------
    .. [1] Linux kernel documentation, "Control Group v2", memory.max, memory.current, memory.stat.
    .. [2] Linux kernel documentation, "Memory Resource Controller" (cgroup v1), memory.limit_in_bytes.
    .. [3] getrlimit(2), Linux manual page: RLIMIT_AS.
    """
    options = [(_mem_available(proc), "MemAvailable")]
    cgroup = _cgroup_room(cgroup_root, proc)
    if cgroup is not None:
        options.append((cgroup, "cgroup memory limit"))
    rlimit = _address_space_room(proc)
    if rlimit is not None:
        options.append((rlimit, "address-space limit (ulimit -v)"))
    size, source = min(options, key=lambda o: o[0])
    _first.setdefault("budget", (max(int(size), 0), source))
    return max(int(size), 0), source


_first: dict = {}  # the first figure taken, before the run's own allocations (the out-of-memory advice uses it)


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value >= _NO_LIMIT else value


def _stat_field(path: str, names: tuple[str, ...]) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                key, _, value = line.partition(" ")
                if key in names:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _mem_available(proc: str) -> int:
    try:
        with open(os.path.join(proc, "meminfo")) as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def _cgroup_room(root: str, proc: str) -> int | None:
    """Least (limit - usage) over the memory cgroups of this process and their ancestors; None without a limit."""
    try:
        with open(os.path.join(proc, "self", "cgroup")) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    folders = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":  # cgroup v2
            folders.append((os.path.join(root, parts[2].lstrip("/")), root, "v2"))
            folders.append((os.path.join(root, "unified", parts[2].lstrip("/")), os.path.join(root, "unified"), "v2"))
        elif "memory" in parts[1].split(","):  # cgroup v1
            base = os.path.join(root, "memory")
            folders.append((os.path.join(base, parts[2].lstrip("/")), base, "v1"))
    rooms = []
    for folder, top, version in folders:
        seen = set()
        path = os.path.normpath(folder)
        top = os.path.normpath(top)
        while path.startswith(top) and path not in seen:  # this cgroup and every ancestor (a mounted namespace's root)
            seen.add(path)
            room = _cgroup_level(path, version)
            if room is not None:
                rooms.append(room)
            if path == top:
                break
            path = os.path.dirname(path)
    return min(rooms) if rooms else None


def _cgroup_level(path: str, version: str) -> int | None:
    if version == "v2":
        limit = _read_int(os.path.join(path, "memory.max"))
        used = _read_int(os.path.join(path, "memory.current"))
        cache = _stat_field(os.path.join(path, "memory.stat"), ("inactive_file",))
    else:
        limit = _read_int(os.path.join(path, "memory.limit_in_bytes"))
        used = _read_int(os.path.join(path, "memory.usage_in_bytes"))
        cache = _stat_field(os.path.join(path, "memory.stat"), ("total_inactive_file", "inactive_file"))
    if limit is None:
        return None
    return limit - max((used or 0) - cache, 0)


def _address_space_room(proc: str) -> int | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    size = 0
    try:
        with open(os.path.join(proc, "self", "status")) as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    size = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return soft - size


def format_size(size: float) -> str:
    """``1.5GB``, ``600MB``: the form ``--memory-limit`` reads (binary units, 1GB = 1024 MB)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f}{unit}" if value >= 10 or value == int(value) else f"{value:.1f}{unit}"
    return f"{max(int(size // 1024), 1)}KB"


def out_of_memory_message(detail: str = "") -> str:
    """The message for a run that ran out of memory: the binding limit and the ``--memory-limit`` to set."""
    room, source = _first.get("budget") or memory_budget()
    suggest = max(room // 2, 64 * 1024**2) // (16 * 1024**2) * (16 * 1024**2)
    what = f" ({detail})" if detail else ""
    return (f"The run ran out of memory{what}; this process can still use about {format_size(room)} ({source}). "
            f"Rerun with {option('memory-limit', format_size(suggest))} (or smaller) to process the log out of core in "
            "user buckets on disk, or give the process more memory.")
