"""CSV files as spreadsheets export them: delimiter, decimal mark, text encoding and null tokens.

pyarrow's CSV reader does the reading; this module decides how it reads each file (:class:`CsvOptions`, the
same for every CSV file of a run: event logs, path tables and the spend table) and turns what it cannot read into
one clear :class:`~attribution.exceptions.Problem`.

Rules
-----
- **Encoding.** A byte-order mark decides: UTF-8 (the mark is skipped), UTF-16 LE/BE, UTF-32. Without one the
  file is read as ``encoding`` (default UTF-8; ``latin-1``, ``cp1252`` or any Python codec name). A byte that is
  not valid text in that encoding is an error naming the file, the column, the first row and ``--encoding``.
- **Delimiter.** Given, tab for a ``.tsv`` file, or else detected among tab, ``;`` and ``,`` from the header and
  the next 20 records (read from the first 64 KiB): a candidate fits when it splits the header into at least two
  fields and every complete record into as many (quoted fields respected). Of the fitting candidates the one
  giving the most fields wins (ties: tab, then ``;``, then ``,``); when none fits, the one splitting the header
  into the most fields; a header no candidate splits is one ``,``-separated column.
- **Decimal mark.** ``.`` (default) or ``,``. With ``,`` the numeric columns (revenue, spend, conversions) are
  read as text and a value written with a decimal comma (``12,50``, ``-3``, ``1,5e3``) becomes a number; a value
  holding a ``.`` there (``12.50``, ``1.234,50``) is refused rather than guessed. With ``.``, a numeric column
  whose values use commas and never a point is refused with a pointer to ``--decimal ,``.
- **Nulls.** A field equal to one of :data:`CSV_NULLS` (exactly, quoted or not) is null, in every column, as a
  Parquet null is.
- **Header.** A column name given twice is an error.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from attribution.exceptions import InputError, ParameterError, Problem, option

#: fields read as null in a CSV file (exact match; pyarrow's defaults, pinned here, plus Python's ``None``)
CSV_NULLS = ("", "NA", "N/A", "n/a", "#N/A", "#N/A N/A", "#NA", "NULL", "null", "NaN", "nan", "-NaN", "-nan",
             "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN", "None")
#: delimiter candidates of the detection, in tie-break order
DELIMITERS = ("\t", ";", ",")
_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_HEAD_BYTES = 1 << 16
_HEAD_RECORDS = 21
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_COMMA_NUMBER = r"^\s*[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?\s*$"
_POINT_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


def _shown(value: str) -> str:
    return {"\t": "tab"}.get(value, value)


@dataclass(frozen=True)
class CsvOptions:
    """How every CSV file of a run is read.

    Parameters
    ----------
    delimiter : str, optional
        One character; None detects it per file (see the module notes).
    decimal : {".", ","}
        Decimal mark of the numeric columns.
    encoding : str, optional
        Text encoding of files without a byte-order mark (None: UTF-8).
    text : tuple of str
        Identifier columns: read as text when their values are not all int64 integers (user ids above 2**63
        would otherwise be inferred as float64 and lose their last digits).
    """

    delimiter: str | None = None
    decimal: str = "."
    encoding: str | None = None
    text: tuple = ()

    @classmethod
    def of(cls, delimiter=None, decimal=".", encoding=None) -> "CsvOptions":
        """Checked options from the command line's or the API's values (``tab`` and ``\\t`` name the tab; ``auto``
        or None: detected delimiter, UTF-8 unless a byte-order mark says otherwise); a :class:`CsvOptions` given
        as ``delimiter`` is returned as it is.

        Raises
        ------
        ParameterError
            For a delimiter that is not one character, a decimal mark other than ``.`` or ``,``, or an unknown
            encoding.
        """
        if isinstance(delimiter, CsvOptions):
            return delimiter
        if delimiter is not None and str(delimiter).lower() != "auto":
            delimiter = _NAMES.get(str(delimiter).lower(), str(delimiter))
            if len(delimiter) != 1 or delimiter in "\r\n\"":
                raise ParameterError(f"The {option('delimiter', quoted=True)} option must be one character (',', ';', 'tab', '|') or "
                                     f"'auto'. Got {delimiter!r} instead.")
        else:
            delimiter = None
        decimal = "." if decimal is None else str(decimal)
        if decimal not in (".", ","):
            raise ParameterError(f"The {option('decimal', quoted=True)} option must be '.' or ','. Got {decimal!r} instead.")
        if encoding is not None and str(encoding).lower() != "auto":
            try:
                encoding = codecs.lookup(str(encoding)).name
            except LookupError:
                raise ParameterError(f"The {option('encoding', quoted=True)} option must be a text encoding such as utf-8, latin-1, "
                                     f"cp1252 or utf-16. Got {encoding!r} instead.") from None
        else:
            encoding = None
        return cls(delimiter, decimal, encoding)


def _head(path: str) -> bytes:
    with pa.input_stream(path, compression="detect") as fh:
        return fh.read(_HEAD_BYTES)


def file_encoding(head: bytes, options: CsvOptions) -> str:
    """The encoding a file is read in: its byte-order mark's, else the option's, else UTF-8."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return options.encoding or "utf-8"


def detect_delimiter(text: str, truncated: bool = False) -> str:
    """The delimiter of a CSV file's first lines (the rule of the module notes)."""
    best, fields = None, {}
    for cand in DELIMITERS:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=cand)][:_HEAD_RECORDS + 1]
        if truncated and len(records) > 1:
            records = records[:-1]  # the last record may be cut by the end of the sample
        records = [r for r in records[:_HEAD_RECORDS] if r]
        if not records:
            continue
        fields[cand] = len(records[0])
        fits = fields[cand] >= 2 and all(len(r) == fields[cand] for r in records[1:])
        if fits and (best is None or fields[cand] > fields[best]):
            best = cand
    if best is not None:
        return best
    wide = max(DELIMITERS, key=lambda c: (fields.get(c, 0), -DELIMITERS.index(c)))
    return wide if fields.get(wide, 0) >= 2 else ","


def dialect(path: str, options: CsvOptions | None) -> tuple[str, str]:
    """(delimiter, encoding) of one CSV file."""
    options = options or CsvOptions()
    head = _head(path)
    encoding = file_encoding(head, options)
    if options.delimiter is not None:
        return options.delimiter, encoding
    if path.lower().endswith((".tsv", ".tsv.gz", ".tsv.bz2")):
        return "\t", encoding
    text = head.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return detect_delimiter(text, truncated=len(head) >= _HEAD_BYTES), encoding


def reader_options(path: str, options: CsvOptions | None, columns=None, numeric=()):
    """pyarrow (read, parse, convert) options of one file; ``numeric``: actual names of its numeric columns."""
    options = options or CsvOptions()
    delimiter, encoding = dialect(path, options)
    types = {c: pa.string() for c in numeric} if options.decimal == "," else {}
    convert = pacsv.ConvertOptions(include_columns=columns, null_values=list(CSV_NULLS), strings_can_be_null=True,
                                   quoted_strings_can_be_null=True, column_types=types)
    read = pacsv.ReadOptions(encoding="utf8" if encoding == "utf-8" else encoding)
    return read, pacsv.ParseOptions(delimiter=delimiter), convert


def header_names(path: str, options: CsvOptions | None) -> list[str]:
    """Column names of a CSV file; a name given twice is an error."""
    read, parse, _ = reader_options(path, options)
    try:
        with pacsv.open_csv(path, read_options=read, parse_options=parse) as reader:
            names = list(reader.schema.names)
    except pa.ArrowInvalid:  # e.g. "Expected 1 columns, got 2": a header read with the wrong delimiter?
        head = _head(path).decode(file_encoding(_head(path), options or CsvOptions()), errors="replace")
        header = next(csv.reader(io.StringIO(head.lstrip("\ufeff"), newline=""), delimiter=parse.delimiter), [])
        hint = delimiter_hint(path, header, None, options)
        if hint is not None:
            raise InputError(hint) from None
        raise
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(Problem(
            "duplicate_column", f"the header names column {', '.join(map(repr, twice))} more than once",
            "rename or remove the extra column (which one holds the data cannot be guessed)",
            file=path, column=twice[0]))
    return names


def read_csv(path: str, columns: list[str], options: CsvOptions | None, numeric=()) -> pa.Table:
    """Read the named columns of a CSV file as the options say, checked (see :func:`checked`)."""
    read, parse, convert = reader_options(path, options, columns, [c for c in numeric if c in columns])
    try:
        table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        if _as_text(table.schema, options, convert):  # identifiers inferred as float64: read them as text
            table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise_undecodable(path, exc, read.encoding)
        raise
    return checked(table, path, options, numeric, read.encoding)


def open_csv(path: str, columns: list[str], options: CsvOptions | None, numeric=()):
    """A streaming reader of the named columns and the encoding it reads in (pieces go through :func:`checked`)."""
    read, parse, convert = reader_options(path, options, columns, [c for c in numeric if c in columns])
    reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    if _as_text(reader.schema, options, convert):
        reader.close()
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    return reader, read.encoding


def _as_text(schema: pa.Schema, options: CsvOptions | None, convert) -> bool:
    """Whether an identifier column (``options.text``) was inferred as floating point; if so, it is set to be
    read as text in ``convert`` (integers keep their int64 type)."""
    floats = [c for c in (options.text if options else ()) if c in schema.names
              and pa.types.is_floating(schema.field(c).type)]
    if floats:
        convert.column_types = {**dict(convert.column_types), **{c: pa.string() for c in floats}}
    return bool(floats)


def raise_undecodable(path: str, exc: Exception, encoding: str, first_row: int | None = None) -> None:
    """Turn pyarrow's "invalid UTF8" error (a text column forced to string) into the encoding problem."""
    if "utf8" in str(exc).lower().replace("-", ""):
        raise InputError(Problem(
            "encoding", f"holds bytes that are not valid {encoding} text",
            _encoding_fix(), file=path, first_row=first_row)) from None


def _encoding_fix() -> str:
    return (f"give the file's encoding with {option('encoding')} (latin-1 or cp1252 for most Western spreadsheet exports; "
            "UTF-16 and UTF-8 with a byte-order mark are detected)")


def checked(table: pa.Table, path: str, options: CsvOptions | None, numeric=(), encoding: str = "utf8",
            offset: int = 0) -> pa.Table:
    """A CSV table (or piece starting at row ``offset``) with its undecodable text and decimal marks checked.

    Raises
    ------
    InputError
        For a column holding bytes that are not text in the file's encoding, or numbers with the other
        decimal mark.
    """
    options = options or CsvOptions()
    for name in table.column_names:
        if pa.types.is_binary(table[name].type) or pa.types.is_large_binary(table[name].type):
            _undecodable(table[name], path, name, encoding, offset)
    for name in [c for c in numeric if c in table.column_names]:
        col = table[name]
        if options.decimal == ",":
            table = table.set_column(table.column_names.index(name), name, _comma_numbers(col, path, name, offset))
        elif pa.types.is_string(col.type):
            _no_comma_numbers(col, path, name, offset)
    return table


def _undecodable(col: pa.ChunkedArray, path: str, name: str, encoding: str, offset: int) -> None:
    """Raise the encoding problem of a column read as binary (its bytes are not text in ``encoding``)."""
    codes = col.combine_chunks().dictionary_encode()
    values = codes.dictionary.to_pylist()  # distinct values only: this is the error path
    bad = np.flatnonzero([not _decodes(v) for v in values])
    idx = codes.indices.to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(np.isin(idx, bad) & ~codes.is_null().to_numpy(zero_copy_only=False))
    first = int(rows[0]) if len(rows) else 0
    raw = col[first].as_py() or b""
    raise InputError(Problem(
        "encoding", f"holds bytes that are not valid {'UTF-8' if encoding in ('utf8', 'utf-8') else encoding} text",
        _encoding_fix(), file=path, column=name, count=len(rows), first_row=offset + first,
        example={name: raw[:60]}))


def _decodes(value: bytes | None) -> bool:
    if value is None:
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _first(mask: np.ndarray, col: pa.ChunkedArray, path: str, name: str, offset: int, rule: str, fix: str,
           code: str) -> None:
    rows = np.flatnonzero(mask)
    if len(rows):
        raise InputError(Problem(code, rule, fix, file=path, column=name, count=len(rows),
                                 first_row=offset + int(rows[0]), example={name: col[int(rows[0])].as_py()}))


def _comma_numbers(col: pa.ChunkedArray, path: str, name: str, offset: int) -> pa.ChunkedArray:
    """Text numbers with a decimal comma as text numbers with a point (``--decimal ,``); a point is refused."""
    text = col.cast(pa.string())
    comma = pc.fill_null(pc.match_substring_regex(text, _COMMA_NUMBER), False)
    point = pc.fill_null(pc.match_substring(text, "."), False)
    _first(np.asarray(point.to_numpy(zero_copy_only=False)) & ~np.asarray(comma.to_numpy(zero_copy_only=False)),
           text, path, name, offset, f"must be a number written with a decimal comma ({option('decimal', ',')}), and holds a '.'",
           f"write the numbers without thousands separators and with a decimal comma, or leave out {option('decimal', ',')} "
           "if the file uses decimal points", "decimal_mark")
    return pc.if_else(comma, pc.replace_substring(text, ",", "."), text)


def _no_comma_numbers(col: pa.ChunkedArray, path: str, name: str, offset: int) -> None:
    """Refuse a text column of numbers written with a decimal comma and never a point (read with ``.``)."""
    comma = pc.fill_null(pc.match_substring_regex(col, r"^\s*[+-]?\d*,\d+\s*$"), False)
    if not pc.any(comma).as_py():
        return
    if pc.any(pc.fill_null(pc.match_substring_regex(col, r"^\s*[+-]?\d*\.\d+\s*$"), False)).as_py():
        return  # points are the decimal mark here: comma values are bad rows of the validation
    _first(np.asarray(comma.to_numpy(zero_copy_only=False)), col, path, name, offset,
           "must be a number, and its values are written with a decimal comma",
           f"rerun with {option('decimal', ',')} (and {option('delimiter', ';')} if the file is ';'-separated); remove thousands separators "
           "if the commas are those", "decimal_mark")


def delimiter_hint(path: str, names, missing, options: CsvOptions | None) -> Problem | None:
    """The problem of a CSV header read with the wrong delimiter, or None: a column name that another candidate
    delimiter splits into pieces among which is one of the ``missing`` column names (any pieces when
    ``missing`` is None: the file could not be parsed with the delimiter used)."""
    options = options or CsvOptions()
    try:
        used, _ = dialect(path, options)
    except OSError:
        return None
    for name in names:
        for cand in (*DELIMITERS, "|"):
            pieces = [p.strip().strip('"') for p in str(name).split(cand)]
            if cand != used and len(pieces) >= 2 and (missing is None or any(m in pieces for m in missing)):
                return Problem(
                    "csv_delimiter", f"the header was read as column {str(name)[:80]!r}: the file looks "
                    f"'{_shown(cand)}'-separated, and was read with '{_shown(used)}'",
                    f"rerun with {option('delimiter', _shown(cand))}", file=path)
    return None
