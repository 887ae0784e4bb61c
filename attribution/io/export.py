"""Writing results: CSV, Parquet, JSON, atomically (temporary file, then rename), byte-for-byte reproducible."""

from __future__ import annotations

import datetime
import os
import secrets

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from attribution.exceptions import OutputError, ParameterError
from attribution.io.sql import LOCK_TIMEOUT, check_sql_target, is_sql_target, probe_sql_target, write_sql

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
    """Fail early (before any work) when ``path`` cannot be written: its folder is missing, read-only, full or
    forbidden (a temporary file is created there and removed), or ``path`` is a folder."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"Cannot write {path!r}: the folder {folder!r} does not exist.")
    if os.path.isdir(path):
        raise OutputError(f"Cannot write {path!r}: it is a folder; give a file name.")
    try:
        probe_folder(folder)
    except OSError as exc:
        raise OutputError(f"Cannot write {path!r}: cannot create a file in {folder!r} "
                          f"({exc.strerror or exc}).") from None


def probe_folder(folder: str) -> None:
    """Create a temporary file in ``folder`` and remove it (raises the ``OSError`` when that is not possible)."""
    tmp = temp_path(folder)
    ours = True
    try:
        os.close(create_new(tmp))
    except FileExistsError:  # another program's file of that name (a 1 in 2**64 draw): not ours to remove
        ours = False
        raise
    finally:
        if ours:
            _unlink(tmp)


def temp_path(folder: str) -> str:
    """A fresh name for a temporary output in ``folder`` (``.attribution-<random>.tmp``), not yet created.

    Callers record it before :func:`create_new` makes the file, so that a signal arriving at any moment finds
    the name to remove (:func:`tempfile.mkstemp` returns it only once the file exists).
    """
    return os.path.join(folder, f".attribution-{secrets.token_hex(8)}.tmp")


def create_new(path: str) -> int:
    """Create ``path`` (it must not exist) for writing, readable by its owner only until its mode is set."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def check_folder(folder: str, option: str) -> None:
    """Fail early when a folder given with ``option`` (``--spill-dir``) is missing or cannot be written."""
    if not os.path.isdir(folder):
        raise OutputError(f"The folder {folder!r} ({option}) does not exist.")
    try:
        probe_folder(folder)
    except OSError as exc:
        raise OutputError(f"Cannot write in the folder {folder!r} ({option}): {exc.strerror or exc}.") from None


def file_mode(path: str) -> int:
    """The permission bits an output gets: those of the file it replaces, else 0666 less the umask (as any
    program's new file; :func:`tempfile.mkstemp` alone would leave 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux >= 4.7 shows it without changing it
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` completely or not at all; a previous file survives any failure (and any
    SIGINT or SIGTERM: the temporary file is removed on the way out). A replaced file keeps its mode."""
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    mode = file_mode(path)
    tmp = temp_path(folder)
    try:
        with os.fdopen(create_new(tmp), "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if not isinstance(exc, FileExistsError):  # else the name was another program's (see probe_folder)
            _unlink(tmp)
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
    if is_sql_target(output):
        check_sql_target(output, table, table_option)
        probe_sql_target(output)  # unreachable server, bad credentials: say so before the long work
        return "sql"
    fmt = output_format(output, fmt)
    check_writable(output)
    return fmt


def write_output(frame: pd.DataFrame, output: str, fmt: str | None = None, table: str | None = None,
                 lock_timeout: float | None = None, if_exists: str = "replace") -> str:
    """Write ``frame`` to a file atomically, or write ``table`` in a database in one transaction (``if_exists``:
    replace, append or replace-periods; :func:`attribution.io.sql.write_sql`), waiting at most ``lock_timeout``
    seconds for a table another session holds locked (default 60)."""
    if is_sql_target(output):
        write_sql(frame, output, table, LOCK_TIMEOUT if lock_timeout is None else lock_timeout, if_exists=if_exists)
        return "sql"
    return write_table(frame, output, fmt)
