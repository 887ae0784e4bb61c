"""Writing results: CSV, Parquet, JSON, atomically (temporary file, then rename), byte-for-byte reproducible."""

from __future__ import annotations

import os
import tempfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .exceptions import OutputError, ParameterError

FORMATS = ("csv", "parquet", "json")
_EXT = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}


def output_format(path: str, fmt: str | None = None) -> str:
    """The format of an output: ``fmt`` if given, else from the file extension."""
    if fmt:
        if fmt not in FORMATS:
            raise ParameterError(f"The '--format' option must be one of {', '.join(FORMATS)}. Got {fmt!r} instead.")
        return fmt
    ext = os.path.splitext(path)[1].lower()
    if ext not in _EXT:
        raise ParameterError(
            f"Cannot tell the format of output {path!r} from its extension; use .csv, .parquet or .json, "
            "or give --format."
        )
    return _EXT[ext]


def encode(frame: pd.DataFrame, fmt: str) -> bytes:
    """Serialise ``frame`` deterministically."""
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if fmt == "json":
        return (frame.to_json(orient="records", double_precision=15, indent=1) + "\n").encode("utf-8")
    if fmt == "parquet":
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue().to_pybytes()
    raise ParameterError(f"Unknown output format {fmt!r}.")


def check_writable(path: str) -> None:
    """Fail early (before any work) when the output's folder does not exist."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"Cannot write {path!r}: the folder {folder!r} does not exist.")


def write_atomic(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` completely or not at all; a previous file survives any failure."""
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".attribution-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"Cannot write {path!r}: {exc.strerror or exc}.") from None
        raise


def write_table(frame: pd.DataFrame, path: str, fmt: str | None = None) -> str:
    """Write a result table to a file (format from ``fmt`` or the extension); returns the format used."""
    fmt = output_format(path, fmt)
    write_atomic(encode(frame, fmt), path)
    return fmt
