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

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory in the process for reuse; True when the setting took effect."""
    if os.environ.get("ATTRIBUTION_KEEP_MEMORY", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if not (mallopt(_M_MMAP_MAX, 0) and mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)):
        return False
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())  # Arrow's buffers from the same kept heap (not mimalloc's own)
    return True
