"""``--detail`` on a partitioned run: the fact table written partition by partition (CSV or Parquet).

The fact table (:mod:`attribution.kpis.detail`) has one row per conversion × touch × model: for a log larger than
memory it is larger than memory too. A partitioned run builds it in its second pass over the partitions
(:mod:`~attribution.engines.second_pass`), one partition at a time, with the same code as in memory
(:func:`attribution.kpis.detail.detail_frame`) and the models' weights from the whole log, and appends it to a
temporary file next to the output; :meth:`DetailSink.commit` renames it into place at the end (all or nothing).

What differs from the in-memory file: the row order. In memory, rows are ordered by model, then conversion (user,
time), then position; partitioned, by partition (user bucket), then model, conversion and position within it.
The rows themselves are the same, including ``conversion_id`` (the log's own, or the in-memory numbering 1, 2, ...
in (user, time) order over the whole log: each partition offsets its users' conversions by the number of
conversions of every smaller user id, counted in the first pass). JSON and SQL targets are not streamed yet.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from attribution.exceptions import OutputError, ParameterError, option
from attribution.io.export import create_new, file_mode, temp_path

STREAMED = ("csv", "parquet")


class DetailSink:
    """Where a partitioned run appends its fact table: a CSV or Parquet file, written atomically."""

    def __init__(self, path: str, fmt: str):
        self.path = path
        self.fmt = fmt
        self._tmp = None
        self._fh = None
        self._writer = None
        self._schema = None
        self.rows = 0

    @property
    def streamable(self) -> bool:
        return self.fmt in STREAMED

    def check(self, where: str) -> None:
        """Refuse targets that cannot be appended to, before any work."""
        if not self.streamable:
            raise ParameterError(
                f"{option('detail')} to {'a SQL table' if self.fmt == 'sql' else 'a JSON file'} is not available with {where} "
                "yet: a partitioned run writes the fact table partition by partition, to a .csv or .parquet file. "
                "Write it to one of those (and load it from there), or run in memory.")

    def _open(self):
        folder = os.path.dirname(os.path.abspath(self.path))
        mode = file_mode(self.path)
        self._tmp = temp_path(folder)  # recorded before the file exists: discard() finds it whatever happens
        self._fh = os.fdopen(create_new(self._tmp), "wb")
        os.fchmod(self._fh.fileno(), mode)  # the umask's mode, or the replaced file's

    def write(self, frame) -> None:
        """Append one partition's rows (pandas frame with the :data:`attribution.kpis.detail.DETAIL_COLUMNS`)."""
        try:
            if self._fh is None:
                self._open()
            if self.fmt == "csv":
                self._fh.write(frame.to_csv(index=False, header=self.rows == 0, lineterminator="\n").encode("utf-8"))
            else:
                if self._schema is None:
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    fields = [pa.field(f.name, _typed(f.name, f.type)) for f in table.schema]
                    self._schema = pa.schema(fields, metadata=table.schema.metadata)
                    self._writer = pq.ParquetWriter(self._fh, self._schema, compression="zstd")
                self._writer.write_table(pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False))
            self.rows += len(frame)
        except BaseException as exc:  # also SIGINT / SIGTERM: no temporary file left behind
            self.discard()
            if isinstance(exc, OSError):
                raise OutputError(f"Cannot write {self.path!r}: {exc.strerror or exc}.") from None
            raise

    def commit(self, empty=None) -> None:
        """Close and move the file into place; ``empty`` (a frame with the columns) when nothing was written."""
        if self.rows == 0 and empty is not None and (self._writer is None and (self._fh is None or self.fmt == "csv")):
            self.write(empty)
        try:
            if self._writer is not None:
                self._writer.close()
            if self._fh is not None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                os.replace(self._tmp, self.path)
        except BaseException as exc:  # also SIGINT / SIGTERM: no temporary file left behind
            self.discard()
            if isinstance(exc, OSError):
                raise OutputError(f"Cannot write {self.path!r}: {exc.strerror or exc}.") from None
            raise
        self._fh = self._writer = self._tmp = None

    def discard(self) -> None:
        """Drop the temporary file (a failed run leaves any previous output intact)."""
        for close in (self._writer, self._fh):
            try:
                if close is not None:
                    close.close()
            except Exception:  # noqa: BLE001 - closing a broken file while cleaning up
                pass
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
        self._fh = self._writer = self._tmp = None


def _typed(name: str, typ: pa.DataType) -> pa.DataType:
    """A column that is all null in the first partition gets the type the others will have."""
    if not pa.types.is_null(typ):
        return typ
    if name.endswith("_date"):
        return pa.date32()
    if name.endswith("_ts"):
        return pa.timestamp("ns", tz="UTC")
    return pa.string()
