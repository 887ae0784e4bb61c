"""Dask engine (``--engine dask``, extra ``dask``): the same partitioned run on a Dask cluster.

The log is read by Dask tasks, one per file piece (a run of Parquet row groups, or a CSV file), each with only
the needed columns; every read task splits its rows by the user-hash bucket (the shuffle by user) and every
bucket task gathers its rows from all read tasks, then runs the same per-partition code as the out-of-core
engine (:func:`attribution.engines.partial.process_partition`). Only the small additive statistics come back
to the client, which finalises them with the same code as every other engine.

``--scheduler ADDRESS`` connects to an existing cluster (``tcp://host:8786``); its workers need this package
installed. Without it a ``distributed.LocalCluster`` is started on this machine (loopback only, one worker
per core, no dashboard) and closed at the end. Its worker processes are the run's own, like the command's
process: they keep freed memory for their next arrays (:func:`attribution.memory.keep_freed_memory`), and a
file's read tasks come in a multiple of the worker count, of near-equal rows, so that no worker waits idle for
the last one before the buckets can start.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from attribution.engines.partial import PartitionResult, RunSpec, process_partition
from attribution.engines.partition import bucket_of, iter_pieces, split_by_bucket, user_kind
from attribution.exceptions import AttributionError, ParameterError
from attribution.memory import keep_freed_memory
from attribution.io.sources import file_kind
from attribution.progress import progress


def _read_split(path, columns, dictionary, groups, offset, n_buckets, user_col, kind, csv=None, numeric=()):
    """Dask task: read one piece of a file and split it into user buckets."""
    if file_kind(path) == "parquet":
        schema = pq.read_schema(path)
        as_dict = [c for c in dictionary if c in columns and c in schema.names
                   and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
        pf = pq.ParquetFile(path, read_dictionary=as_dict or None)
        table = pf.read_row_groups(groups, columns=columns) if groups else schema.empty_table().select(columns)
        table = table.append_column("_row", pa.array(np.arange(offset, offset + table.num_rows, dtype=np.int64)))
    else:
        parts = list(iter_pieces(path, columns, dictionary, batch_rows=1 << 62, csv=csv, numeric=numeric))
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return split_by_bucket(table, bucket_of(table[user_col], n_buckets, kind), n_buckets)


def _pick(split, b):
    return split[b]


def _pieces_of(path: str, batch_rows: int, workers: int = 1):
    """(row groups, first row) of each read task of a file; one task for a CSV file.

    A Parquet file's row groups are cut into runs of near-equal rows, at most about ``batch_rows`` each, their
    number a multiple of ``workers`` (every read task must finish before a bucket can start: equal shares keep
    every worker busy to the end).
    """
    if file_kind(path) != "parquet":
        return [(None, 0)]
    meta = pq.ParquetFile(path).metadata
    rows = np.array([meta.row_group(g).num_rows for g in range(meta.num_row_groups)], np.int64)
    if not len(rows):
        return [([], 0)]
    total = int(rows.sum())
    tasks = workers * max(1, -(-total // (workers * max(1, batch_rows))))
    ends = np.cumsum(rows)
    task_of = np.minimum(((ends - rows) + rows / 2) * tasks // max(total, 1), tasks - 1).astype(np.int64)
    out = []
    for t in np.unique(task_of):
        groups = np.flatnonzero(task_of == t)
        out.append(([int(g) for g in groups], int(ends[groups[0]] - rows[groups[0]])))
    return out


def connect(scheduler: str | None = None, n_workers: int | None = None):
    """A ``distributed.Client`` on ``scheduler`` or on a new LocalCluster; returns (client, cluster or None)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ParameterError("The dask engine needs the 'dask' extra: pip install 'attribution[dask]'.") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise AttributionError(f"Cannot reach the Dask scheduler at {scheduler!r}: {exc}.") from None
    workers = n_workers or max(1, min(os.cpu_count() or 1, 4))
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    client.run(keep_freed_memory)  # the run's own worker processes, as the command's (never a user's cluster)
    return client, cluster


#: seconds a run waits with no worker left in the cluster before it fails (workers a nanny restarts come back
#: within a few seconds)
NO_WORKER_GRACE = 60.0


def wait_all(client, futures, done=None, *, grace: float | None = None, poll: float = 1.0) -> None:
    """Wait for every future; fail with one message when a task fails or the cluster has lost its workers.

    ``distributed.as_completed`` alone waits forever once no worker is left (tasks then wait for one), and
    reports a task whose workers kept dying (``KilledWorker``: the scheduler gives up after a few deaths, most
    often a worker killed for using too much memory) only when the results are gathered, as a traceback. Here
    the futures are polled: the first failed task raises (a killed worker as :class:`AttributionError`, any
    other error as itself), and no worker for ``grace`` seconds (:data:`NO_WORKER_GRACE`) raises too.
    ``done(1)`` is called for every finished task (a progress bar).
    """
    import time

    from dask.distributed import wait

    grace = NO_WORKER_GRACE if grace is None else grace
    pending, lost_since = set(futures), None
    while pending:
        try:
            finished, pending = wait(pending, timeout=poll, return_when="FIRST_COMPLETED")
        except TimeoutError:
            finished = set()
        for future in finished:
            if future.status == "error":
                _raise_failed(future)
            if done is not None:
                done(1)
        if pending and not client.scheduler_info().get("workers"):
            lost_since = lost_since if lost_since is not None else time.monotonic()
            if time.monotonic() - lost_since > grace:
                raise AttributionError(
                    f"The Dask cluster has no worker left ({len(pending)} of {len(futures)} tasks unfinished after "
                    f"{grace:.0f} s without one): workers died or were stopped, most often for using too much "
                    "memory. Give the workers more memory, use more partitions (--memory-limit), or run without "
                    "--engine dask.")
        else:
            lost_since = None


def _raise_failed(future) -> None:
    """Raise the error of a failed task: a worker killed while running it as one clear message."""
    exc = future.exception()
    if type(exc).__name__ == "KilledWorker":
        raise AttributionError(
            f"A Dask worker died while running a task of this run ({exc}), as many times as the scheduler allows "
            "(distributed.scheduler.allowed-failures): most often it was killed for using too much memory. Give "
            "the workers more memory, use more partitions (--memory-limit), or run without --engine dask.") from None
    raise exc


def run_dask(plan, spec: RunSpec, *, n_partitions: int, scheduler: str | None = None, client=None,
             batch_rows: int = 2_000_000, show_progress=None, second=None) -> list[PartitionResult]:
    """Run every user partition on Dask; returns one :class:`PartitionResult` per partition.

    ``second``: as for :func:`~attribution.engines.outofcore.run_out_of_core`; the second pass re-reads the
    files (the same read-and-split tasks) and runs ``second(results)`` on every partition.
    """
    import dask  # an optional dependency (extra 'dask')

    own = client is None
    cluster = None
    if own:
        client, cluster = connect(scheduler)
    try:
        kind = user_kind(pq.read_schema(p).field(plan.actual("user_id")).type
                         if p.lower().endswith((".parquet", ".pq", ".parq")) else pa.string() for p, _ in plan.files)
        user_col = plan.actual("user_id")
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        reads = []  # (original file, delayed split)
        for path, wanted in plan.files:
            for groups, offset in _pieces_of(path, batch_rows, workers):
                split = dask.delayed(_read_split, pure=True)(path, wanted, plan.dictionary, groups, offset,
                                                            n_partitions, user_col, kind, plan.csv, plan.numeric)
                reads.append((path, split))
        tasks = []
        for b in range(n_partitions):
            pieces = [(path, dask.delayed(_pick, pure=True)(split, b)) for path, split in reads]
            tasks.append(dask.delayed(process_partition, pure=True)(pieces, spec))
        futures = client.compute(tasks)
        with progress(total=len(futures), desc="dask partitions", unit="part", enabled=show_progress) as bar:
            wait_all(client, futures, bar.update)
        results = client.gather(futures)
        if second is not None and any(r.stats for r in results):
            fn = second(results)
            tasks = []
            for b in range(n_partitions):
                pieces = [(path, dask.delayed(_pick, pure=True)(split, b)) for path, split in reads]
                tasks.append(dask.delayed(fn, pure=True)(pieces))
            futures = client.compute(tasks)
            with progress(total=len(futures), desc="dask credit touches", unit="part", enabled=show_progress) as bar:
                wait_all(client, futures, bar.update)
            for r, future in zip(results, futures):  # in partition order, one partition's output at a time
                second.attach(r, future.result())
                future.release()
        if not any(r.stats or r.problems for r in results):  # an empty log: one empty partition
            path, wanted = plan.files[0]
            first = next(iter_pieces(path, wanted, plan.dictionary, csv=plan.csv, numeric=plan.numeric))
            results = [process_partition([(path, first.slice(0, 0))], spec)]
        return list(results)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
