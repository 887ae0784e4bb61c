"""The Dask engine fails with one message when its workers are lost, instead of waiting forever."""

from __future__ import annotations

import os
import signal

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from attribution.engines.dask_engine import wait_all  # noqa: E402
from attribution.exceptions import AttributionError  # noqa: E402


def _kill_own_worker(x):
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer does
    return x


def test_a_cluster_without_workers_fails_after_the_grace_period():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=0, processes=True, dashboard_address=None, host="127.0.0.1") as cluster, \
            Client(cluster) as client:
        futures = [client.submit(abs, -i) for i in range(3)]
        with pytest.raises(AttributionError, match="no worker left .*3 of 3 tasks unfinished"):
            wait_all(client, futures, grace=0.5, poll=0.1)


def test_a_task_whose_worker_is_killed_fails_with_one_message():
    import dask
    from dask.distributed import Client, LocalCluster

    done = []
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                         host="127.0.0.1", silence_logs=50) as cluster, Client(cluster) as client:
        fine = client.submit(abs, -2, pure=False)
        client.gather(fine)
        killed = client.submit(_kill_own_worker, 1, pure=False)
        with pytest.raises(AttributionError, match="A Dask worker died while running a task"):
            wait_all(client, [fine, killed], done.append, poll=0.2)
    assert done == [1]  # the finished task was counted before the failure


def test_other_task_errors_are_raised_as_they_are():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        with pytest.raises(ZeroDivisionError):
            wait_all(client, [client.submit(lambda: 1 / 0, pure=False)], poll=0.1)
