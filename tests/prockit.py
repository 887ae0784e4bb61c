"""Helpers of the tests that run the command line as a real process (signals, limits, umask, full disks);
importable as ``prockit``."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

CHANNELS = ["direct", "email", "paid_search", "display", "social", "affiliate"]


def big_log(path, *, n: int, users: int, seed: int = 0, row_group_size: int = 200_000) -> str:
    """A seeded Parquet event log of ``n`` rows (large enough that an out-of-core run lasts a while)."""
    rng = np.random.default_rng(seed)
    event = rng.choice(["touch", "conversion"], n, p=[0.9, 0.1])
    frame = pd.DataFrame({
        "user_id": np.char.add("user-", rng.integers(0, users, n).astype(str)),
        "timestamp": pd.to_datetime(1_704_067_200 + np.sort(rng.integers(0, 90 * 86_400, n)), unit="s"),  # 2024
        "event": event,
        "channel": np.where(event == "touch", rng.choice(CHANNELS, n), None),
        "revenue": np.where(event == "conversion", np.round(rng.gamma(2.0, 30.0, n), 2), np.nan),
    })
    frame.to_parquet(path, index=False, row_group_size=row_group_size)
    return str(path)


def start(args, **kwargs) -> subprocess.Popen:
    """``python -m attribution ARGS`` as a child process (stderr captured)."""
    return subprocess.Popen([sys.executable, "-m", "attribution", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "attribution", *map(str, args)], capture_output=True, text=True,
                          **kwargs)


def wait_for(proc: subprocess.Popen, pattern: str, limit: float = 120.0) -> bool:
    """Poll until a file matching ``pattern`` exists (True) or the process has ended (False)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if glob.glob(pattern):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def leftovers(*folders) -> list[str]:
    """Temporary outputs and spill folders left in ``folders``."""
    found = []
    for folder in folders:
        found += glob.glob(os.path.join(str(folder), ".attribution-*.tmp"))
        found += glob.glob(os.path.join(str(folder), "attribution-buckets-*"))
    return sorted(found)
