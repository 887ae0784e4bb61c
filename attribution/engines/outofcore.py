"""Out-of-core engine: logs larger than memory, on one machine.

Pass 1 reads every input file piece by piece (only the needed columns), hashes each row's user id into one of
``n_buckets`` buckets (:mod:`attribution.engines.partition`) and appends the rows to one Arrow IPC stream per
(bucket, input file) in a temporary folder on local disk (zstd-compressed record batches: writing and reading them
back costs a fifth of what Parquet files did, and dictionary columns come back as they went in). Pass 2 loads one
bucket at a time, validates it and
builds its journeys with the in-memory code, keeps only each model's additive partition statistics, and
frees the bucket. :func:`attribution.engines.partial.finalise` then merges and finalises. Peak memory is about
one bucket's in-memory run plus the small statistics, whatever the size of the log.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from attribution.engines.partial import PartitionResult, RunSpec, process_partition
from attribution.engines.partition import bucket_of, file_rows, iter_pieces, split_by_bucket, user_kind
from attribution.engines.spill import SpillFolder, spill_message
from attribution.exceptions import OutputError
from attribution.progress import progress


def write_buckets(plan, n_buckets: int, folder: str, *, kind: str, batch_rows: int = 2_000_000,
                  show_progress=None) -> list[list[tuple[str, str]]]:
    """Pass 1: split every file of ``plan`` into user buckets under ``folder``.

    Returns, per bucket, the list of (original file, bucket piece file) in input-file order.
    """
    user_col = plan.actual("user_id")
    buckets: list[list[tuple[str, str]]] = [[] for _ in range(n_buckets)]
    total = _total_rows(plan)
    with progress(total=total, desc="partition by user", unit="rows", enabled=show_progress) as bar:
        for f, (path, wanted) in enumerate(plan.files):
            writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
            names: dict[int, str] = {}
            try:
                for piece in iter_pieces(path, wanted, plan.dictionary, batch_rows=batch_rows, csv=plan.csv,
                                         numeric=plan.numeric):
                    ids = bucket_of(piece[user_col], n_buckets, kind)
                    try:
                        for b, part in enumerate(split_by_bucket(piece, ids, n_buckets)):
                            if part is None:
                                continue
                            if b not in writers:
                                names[b] = os.path.join(folder, f"bucket-{b:04d}-file-{f:05d}.arrows")
                                writers[b] = pa.ipc.new_stream(names[b], part.schema, options=_SPILL_OPTIONS)
                            writers[b].write_table(part)
                    except OSError as exc:  # a full disk, a read-only or vanished folder: not the input's fault
                        raise OutputError(spill_message(folder, exc)) from None
                    bar.update(piece.num_rows)
                try:
                    _close_all(writers)
                except OSError as exc:
                    raise OutputError(spill_message(folder, exc)) from None
            finally:
                _close_all(writers, quiet=True)
            for b in sorted(names):
                buckets[b].append((path, names[b]))
    return buckets


def _close_all(writers: dict, quiet: bool = False) -> None:
    """Close every bucket writer (the last compressed batches are written here); ``quiet`` while failing."""
    while writers:
        _, w = writers.popitem()
        try:
            w.close()
        except OSError:
            if not quiet:
                raise


def _total_rows(plan) -> int | None:
    counts = [file_rows(p) for p, _ in plan.files]
    return None if any(c is None for c in counts) else int(sum(counts))


def run_out_of_core(plan, spec: RunSpec, *, n_buckets: int, spill_dir: str | None = None,
                    show_progress=None, second=None, batch_rows: int = 2_000_000) -> list[PartitionResult]:
    """Both passes; returns one :class:`PartitionResult` per bucket (temporary files removed in any case).

    ``second`` (``--period`` / ``--by`` with a model whose touch weights need the whole log): called with the
    first results, it returns a function of one bucket's tables; the buckets stay on disk until it has been run
    on each of them, in bucket order (:mod:`~attribution.engines.second_pass`), and its outputs are attached to
    the results with ``second.attach``.
    """
    kind = user_kind(pq.read_schema(p).field(plan.actual("user_id")).type if p.lower().endswith((".parquet", ".pq", ".parq"))
                     else pa.string() for p, _ in plan.files)
    spill = SpillFolder(spill_dir)
    try:
        folder = spill.create()
        buckets = write_buckets(plan, n_buckets, folder, kind=kind, show_progress=show_progress,
                                batch_rows=batch_rows)
        if not any(buckets):  # an empty log: one empty partition, so the models still run
            path, wanted = plan.files[0]
            first = next(iter_pieces(path, wanted, plan.dictionary, csv=plan.csv, numeric=plan.numeric))
            return [process_partition([(path, first.slice(0, 0))], spec)]
        results = []
        with progress(total=n_buckets, desc="attribute buckets", unit="bucket", enabled=show_progress) as bar:
            for pieces in buckets:
                tables = [(orig, read_piece(piece_file)) for orig, piece_file in pieces]
                results.append(process_partition(tables, spec))
                if second is None:
                    for _, piece_file in pieces:  # free the disk as we go
                        os.unlink(piece_file)
                bar.update(1)
        if second is not None:
            fn = second(results)
            with progress(total=n_buckets, desc="credit touches", unit="bucket", enabled=show_progress) as bar:
                for b, pieces in enumerate(buckets):
                    tables = [(orig, read_piece(piece_file)) for orig, piece_file in pieces]
                    second.attach(results[b], fn(tables))
                    for _, piece_file in pieces:
                        os.unlink(piece_file)
                    bar.update(1)
        return results
    finally:
        spill.remove()


_SPILL_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


def read_piece(piece_file: str) -> pa.Table:
    """One bucket piece written by :func:`write_buckets`, as it was written."""
    # read, not memory-mapped: the batches are compressed, so a map would only add the file's size to the
    # address space (which ``ulimit -v`` limits) without saving a copy
    with pa.OSFile(piece_file) as source:
        return pa.ipc.open_stream(source).read_all()
