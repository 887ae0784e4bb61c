"""Writing results: CSV, Parquet, JSON, atomically (temporary file, then rename), byte-for-byte reproducible."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from attribution.exceptions import OutputError, ParameterError

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
        frame = _dates_as_text(frame)
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


def _dates_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """JSON has no date type: dates (``period``, ``*_date``) as ``2026-01-31``, timestamps as ISO-8601 UTC text."""
    import datetime

    cols = [c for c in frame.columns if frame[c].dtype == object
            and isinstance(frame[c].dropna().iloc[0] if frame[c].notna().any() else None, datetime.date)
            and not isinstance(frame[c].dropna().iloc[0], datetime.datetime)]
    stamps = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not cols and not stamps:
        return frame
    frame = frame.copy()
    for c in cols:
        frame[c] = frame[c].map(lambda d: None if d is None or d != d else d.isoformat()).astype(object)
    for c in stamps:  # UTC instants as ISO-8601 text (2026-01-31T12:00:00.000000Z), not epoch milliseconds
        values = frame[c].dt.tz_convert("UTC").dt.tz_localize(None) if frame[c].dt.tz is not None else frame[c]
        text = np.datetime_as_string(values.to_numpy().astype("datetime64[us]"), unit="us")
        frame[c] = pd.Series(np.where(values.isna().to_numpy(), None, np.char.add(text, "Z")), dtype=object,
                             index=frame.index)
    return frame


def check_output(output: str, fmt: str | None = None, table: str | None = None, table_option: str = "--table") -> str:
    """Check any output before work: a file (format, folder) or a SQL URL (table name, driver).

    Returns the file format, or ``"sql"`` for a database URL (``sqlite:///...``, ``postgresql://...``).
    """
    from attribution.io.sql import check_sql_target, is_sql_target, probe_sql_target

    if is_sql_target(output):
        check_sql_target(output, table, table_option)
        probe_sql_target(output)  # unreachable server, bad credentials: say so before the long work
        return "sql"
    fmt = output_format(output, fmt)
    check_writable(output)
    return fmt


def write_output(frame: pd.DataFrame, output: str, fmt: str | None = None, table: str | None = None,
                 if_exists: str = "replace") -> str:
    """Write ``frame`` to a file atomically, or write ``table`` in a database in one transaction (``if_exists``:
    replace, append or replace-periods; :func:`attribution.io.sql.write_sql`)."""
    from attribution.io.sql import is_sql_target, write_sql

    if is_sql_target(output):
        write_sql(frame, output, table, if_exists=if_exists)
        return "sql"
    return write_table(frame, output, fmt)
