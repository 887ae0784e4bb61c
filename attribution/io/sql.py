"""Writing result tables to SQL databases through SQLAlchemy 2 (SPEC 5, SPEC 6).

An output is a SQL target when it looks like a URL (``dialect[+driver]://...``): ``sqlite:///file.db``,
``postgresql://user@host/db`` (driven by psycopg 3), ``postgresql+psycopg://...``. The table is **replaced
inside one transaction**: drop, create and insert commit together, so a failed run leaves the previous table
exactly as it was. PostgreSQL has transactional DDL; for SQLite the pysqlite driver's implicit transaction
handling is switched off and the transaction is begun explicitly, as SQLAlchemy's documentation recommends, so
that the ``DROP TABLE`` is inside it too. PostgreSQL rows are loaded with one ``COPY ... FROM STDIN`` (the
frame is serialised by Arrow's C++ CSV writer, so no Python loop runs per row); SQLite rows with one
``executemany`` of values converted column by column (dates and UTC timestamps as ISO text, SQLite having no
date type); other databases through pandas ``to_sql``.

A nightly job keeps the table and adds to it (``--if-exists append``), or replaces only the periods it writes
(``--if-exists replace-periods``: the rows of the frame's ``period`` values are deleted and the frame inserted,
in the same one transaction), so re-running a day replaces that day and leaves the others as they were.

Column types: text for strings, double precision for numbers, ``DATE`` for the ``period`` and ``*_date``
columns, timestamps with time zone for ``*_ts`` columns, bigint for integer columns. Passwords are never printed.

References
----------
.. [1] SQLAlchemy 2.0 documentation, "SQLite: Serializable isolation / Savepoints / Transactional DDL".
.. [2] psycopg 3 documentation, "Using COPY TO and COPY FROM".
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from attribution.exceptions import OutputError, ParameterError, option

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TABLE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$")


def is_sql_target(output: str | None) -> bool:
    """True when ``output`` is a database URL rather than a file path."""
    return bool(output) and bool(_URL.match(str(output)))


#: a URL's scheme as typed, or as left by a path library (``postgresql:/u@h/db``: ``//`` collapsed)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+:/+)(.*)$", re.S)
#: query parameters that carry secrets (``?password=...``, ``?sslpassword=...``, tokens, keys)
_SECRET_PARAM = re.compile(r"([?&;][^=&;]*(?:pass|pwd|secret|token|key|auth|cred)[^=&;]*=)[^&;]*", re.I)


def safe_url(url) -> str:
    """The URL with its credentials masked, for messages: everything between ``://`` and the **last** ``@``
    (so a password with an unencoded ``@`` never shows, in part or whole), and the values of query parameters
    that look like secrets (``password``, ``token``, ``key``, ...). Over-masking is the safe side."""
    text = str(url)
    m = _SCHEME.match(text)
    if m is None:
        return _SECRET_PARAM.sub(r"\1***", text)
    scheme, rest = m.groups()
    if "@" in rest:
        rest = "***@" + rest[rest.rfind("@") + 1:]
    return scheme + _SECRET_PARAM.sub(r"\1***", rest)


def looks_like_url(value) -> bool:
    """True for ``scheme://...`` (also ``scheme:/...`` as a path library leaves it), never for a file that exists."""
    text = str(value)
    return bool(_SCHEME.match(text)) and not os.path.exists(text)


def refuse_url(value, option: str) -> None:
    """A database URL (or any URL) given where a file is expected: a :class:`ParameterError` naming the option,
    with the credentials masked."""
    if value is not None and looks_like_url(value):
        raise ParameterError(
            f"{option} expects a file (CSV or Parquet), not a URL: got {safe_url(value)}. Tables are not read "
            "from databases or remote stores: export them to a CSV or Parquet file first.")


def _check_credentials(url: str) -> None:
    """Refuse an unencoded ``@`` in the user or password: the driver would split the URL at the wrong ``@`` and
    could print the rest of the password as a host name."""
    m = _SCHEME.match(url)
    rest = m.group(2) if m else ""
    if not rest.startswith("/") and rest[:rest.rfind("@")].count("@") > 0:
        raise ParameterError(
            f"The database URL {safe_url(url)} has more than one '@' before its host: percent-encode any '@' in "
            "the user name or password as %40 (and ':' as %3A, '/' as %2F).")


#: Python package to install for a driver module SQLAlchemy could not import
_DRIVER_PACKAGES = {
    "MySQLdb": "mysqlclient", "pymysql": "PyMySQL", "mysql": "mysql-connector-python", "mariadb": "mariadb",
    "psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "asyncpg": "asyncpg", "pg8000": "pg8000",
    "pyodbc": "pyodbc", "pymssql": "pymssql", "oracledb": "oracledb", "cx_Oracle": "cx_Oracle",
}


def _check_driver(url: str, dialect_cls) -> None:
    """Import the URL's database driver now: a missing one is a :class:`ParameterError` naming the package."""
    load = getattr(dialect_cls, "import_dbapi", None) or getattr(dialect_cls, "dbapi", None)
    if load is None:
        return
    try:
        load()
    except ImportError as exc:
        module = (exc.name or "").split(".")[0]
        package = _DRIVER_PACKAGES.get(module, module or "its driver")
        driver = getattr(dialect_cls, "driver", "") or module
        raise ParameterError(
            f"The database URL {safe_url(url)} needs the driver {driver!r}, which is not installed: "
            f"pip install {package!r} (or name an installed driver in the URL: dialect+driver://...).") from None


def _normalise_url(url: str) -> str:
    # SQLAlchemy's default PostgreSQL driver is psycopg2; the engine depends on psycopg 3
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def check_sql_target(url: str, table: str | None, option: str = "--table") -> tuple[str, str | None]:
    """Validate a SQL output before any work: the table name, the URL, and that its driver is installed.

    Returns
    -------
    table, schema
    """
    if not table:
        raise ParameterError(f"A SQL output ({safe_url(url)}) needs a table name: add {option} NAME.")
    if not _TABLE.match(table):
        raise ParameterError(
            f"The '{option}' option must be a table name (letters, digits, underscores; optionally schema.table). "
            f"Got {table!r} instead."
        )
    try:
        import sqlalchemy  # noqa: F401
        from sqlalchemy.engine import make_url
    except ImportError:
        raise ParameterError("SQL outputs need SQLAlchemy: pip install 'attribution[sql]'.") from None
    _check_credentials(url)
    try:
        parsed = make_url(_normalise_url(url))
        dialect_cls = parsed.get_dialect()
    except Exception as exc:  # noqa: BLE001 - unknown dialect or driver, malformed URL
        raise ParameterError(f"Cannot use the SQL output {safe_url(url)}: {_scrub(_first_line(exc), url)}. "
                             "Use sqlite:///FILE.db or postgresql://USER@HOST/DB.") from None
    _check_driver(url, dialect_cls)
    schema, _, name = table.rpartition(".")
    return name, schema or None


def probe_sql_target(url: str) -> None:
    """Fail before any work when the database cannot be reached (SQLite: when the file's folder is missing).

    Raises
    ------
    OutputError
        With the URL (password masked) and the driver's first line of explanation.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(_normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            folder = os.path.dirname(os.path.abspath(db))
            if not os.path.isdir(folder):
                raise OutputError(f"Cannot write to {safe_url(url)}: the folder {folder!r} does not exist.")
        return
    engine = _engine(url)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any driver error: unreachable host, bad credentials, no database
        raise OutputError(f"Cannot connect to {safe_url(url)}: {_scrub(_first_line(exc), url)}.") from None
    finally:
        engine.dispose()


#: seconds a write waits for a table another session holds locked (``--lock-timeout``)
LOCK_TIMEOUT = 60.0


def check_lock_timeout(seconds) -> float:
    """``--lock-timeout``: a positive number of seconds."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = float("nan")
    if not (0 < value < 10**7):
        raise ParameterError(f"The {option('lock-timeout', quoted=True)} option must be a number of seconds > 0. Got {seconds!r} instead.")
    return value


def _engine(url: str, lock_timeout: float = LOCK_TIMEOUT):
    from sqlalchemy import create_engine, event

    connect_args = {"timeout": lock_timeout} if url.startswith("sqlite") else {}  # SQLite's busy timeout
    engine = create_engine(_normalise_url(url), connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _no_implicit_tx(dbapi_connection, connection_record):  # noqa: ARG001
            dbapi_connection.isolation_level = None  # the driver stops issuing its own BEGIN/COMMIT

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN")  # so DROP/CREATE TABLE are inside the transaction
    return engine


def _sql_types(frame: pd.DataFrame) -> dict:
    from sqlalchemy import types

    out = {}
    for col in frame.columns:
        if col == "period" or col.endswith("_date"):
            out[col] = types.Date()
        elif col.endswith("_ts"):
            out[col] = types.DateTime(timezone=True)
        elif pd.api.types.is_float_dtype(frame[col]):
            out[col] = types.Float(precision=53)
        elif pd.api.types.is_integer_dtype(frame[col]):
            out[col] = types.BigInteger()
        elif pd.api.types.is_bool_dtype(frame[col]):
            out[col] = types.Boolean()
        elif not pd.api.types.is_datetime64_any_dtype(frame[col]):
            out[col] = types.Text()
    return out


def _arrow_table(frame: pd.DataFrame):
    """``frame`` as an Arrow table with timestamps at microseconds (what PostgreSQL and SQLAlchemy keep)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.unit == "ns":
            col = pc.cast(table.column(i), pa.timestamp("us", tz=field.type.tz), safe=False)
            table = table.set_column(i, field.name, col)
    return table.replace_schema_metadata(None)


def _copy_postgres(conn, frame: pd.DataFrame, table: str, schema: str | None) -> None:
    """Bulk-load ``frame`` with one COPY in the connection's open transaction (Arrow's C++ CSV writer)."""
    from psycopg import sql

    raw = conn.connection.driver_connection
    target = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    # CSV: nulls are unquoted empty fields, every string is quoted (so "" stays an empty string)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(target, cols)
    sink = pa.BufferOutputStream()
    pacsv.write_csv(_arrow_table(frame), sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    with raw.cursor() as cur:
        with cur.copy(stmt) as copy:
            copy.write(sink.getvalue().to_pybytes())


def _python_columns(frame: pd.DataFrame) -> list[list]:
    """Every column as a list of Python values for DBAPI ``executemany``, converted column-wise in C.

    Dates become ``2026-01-31`` and timestamps ``2026-01-31 12:00:00.000000`` (UTC), the text forms SQLAlchemy
    reads back from SQLite; NaN and NaT become NULL.
    """
    table = _arrow_table(frame)
    out = []
    for field, col in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S", locale="C")
            col = pc.utf8_slice_codeunits(col, 0, 26)  # %S carries the 6 fractional digits at microseconds
        elif pa.types.is_date(field.type):
            col = col.cast(pa.string())
        elif pa.types.is_floating(field.type):
            col = pc.if_else(pc.is_nan(col), pa.scalar(None, field.type), col)
        out.append(col.to_pylist())
    return out


def _insert_rows(conn, frame: pd.DataFrame, table: str, schema: str | None) -> None:
    """Insert ``frame`` with one DBAPI ``executemany`` (no per-row type processing in Python)."""
    if frame.empty:
        return
    prep = conn.dialect.identifier_preparer
    target = (prep.quote_schema(schema) + "." if schema else "") + prep.quote(table)
    cols = ", ".join(prep.quote(c) for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    rows = list(zip(*_python_columns(frame)))
    conn.exec_driver_sql(f"INSERT INTO {target} ({cols}) VALUES ({marks})", rows)


IF_EXISTS = ("replace", "append", "replace-periods")


class _Refused(Exception):
    """An existing table the output cannot be added to (raised inside the transaction, which rolls back)."""


def check_if_exists(if_exists: str) -> str:
    """``--if-exists``: replace (default), append, or replace-periods."""
    if if_exists not in IF_EXISTS:
        raise ParameterError(f"The {option('if-exists', quoted=True)} option must be one of {', '.join(IF_EXISTS)}. Got {if_exists!r} "
                             "instead.")
    return if_exists


def write_sql(frame: pd.DataFrame, url: str, table: str, lock_timeout: float = LOCK_TIMEOUT,
              if_exists: str = "replace") -> None:
    """Write ``frame`` to ``table`` at ``url`` inside one transaction (all or nothing).

    Parameters
    ----------
    if_exists : {"replace", "append", "replace-periods"}
        What happens to an existing table: replaced; rows appended; or its rows of the periods ``frame`` holds
        (its ``period`` column) deleted and ``frame`` inserted, so that re-running a day replaces that day.
        ``append`` and ``replace-periods`` need the table's columns to be ``frame``'s; a missing table is created.

    Raises
    ------
    OutputError
        When the database refuses (nothing is changed: the previous table is intact).
    """
    write_sql_tables([(frame, table)], url, lock_timeout, if_exists=if_exists)


def _keep_table(conn, frame: pd.DataFrame, name: str, schema: str | None, if_exists: str) -> bool:
    """With append / replace-periods: whether the table exists (its periods in ``frame`` deleted); else False."""
    from sqlalchemy import inspect

    if if_exists == "replace" or not inspect(conn).has_table(name, schema=schema):
        return False
    have = [c["name"] for c in inspect(conn).get_columns(name, schema=schema)]
    if have != list(frame.columns):
        raise _Refused(f"Cannot {if_exists.replace('-', ' ')} table {name!r}: it has the columns "
                          f"{', '.join(have)}; this output has {', '.join(frame.columns)}. Write with {option('if-exists', 'replace')}, "
                          f"or to another {option('table')}. Nothing was changed in the database.")
    if if_exists == "replace-periods":
        prep = conn.dialect.identifier_preparer
        target = (prep.quote_schema(schema) + "." if schema else "") + prep.quote(name)
        periods = frame[["period"]].drop_duplicates()
        values = _python_columns(periods)[0] if conn.dialect.name == "sqlite" else list(periods["period"])
        from sqlalchemy import bindparam, text

        stmt = text(f"DELETE FROM {target} WHERE {prep.quote('period')} = :p").bindparams(bindparam("p"))
        if values:
            conn.execute(stmt, [{"p": v} for v in values])
    return True


def write_sql_tables(items, url: str, lock_timeout: float = LOCK_TIMEOUT, if_exists: str = "replace") -> None:
    """Write several tables at ``url`` inside **one** transaction: all of them change, or none does.

    Parameters
    ----------
    items : sequence of (pandas.DataFrame, table name)
        For instance the ROI table and its fact table, which must stay consistent with each other.
    lock_timeout : float
        Seconds to wait for a table another session holds locked (an open transaction that wrote or locked
        it) before giving up with nothing changed: PostgreSQL's ``lock_timeout`` set for this transaction only
        (``SET LOCAL``), SQLite's busy timeout.
    if_exists : {"replace", "append", "replace-periods"}
        As in :func:`write_sql`, for every table.

    Raises
    ------
    OutputError
        When the database refuses (nothing is changed: every previous table is intact).
    """
    targets = [(frame, table, *check_sql_target(url, table)) for frame, table in items]
    if check_if_exists(if_exists) == "replace-periods" and any("period" not in f.columns for f, _ in items):
        raise ParameterError(f"{option('if-exists', 'replace-periods')} needs a period column: run with {option('period', 'day|week|month')}.")
    from sqlalchemy.exc import SQLAlchemyError

    names = ", ".join(repr(t) for _, t, _, _ in targets)
    lock_timeout = check_lock_timeout(lock_timeout)
    engine = _engine(url, lock_timeout)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{max(int(lock_timeout * 1000), 1)}ms'")
            for frame, _, name, schema in targets:
                if not _keep_table(conn, frame, name, schema, if_exists):
                    frame.head(0).to_sql(name, conn, schema=schema, if_exists="replace", index=False,
                                         dtype=_sql_types(frame))
                if engine.dialect.name == "postgresql":
                    _copy_postgres(conn, frame, name, schema)
                elif engine.dialect.paramstyle == "qmark":  # sqlite: one executemany, values converted column-wise
                    _insert_rows(conn, frame, name, schema)
                else:
                    frame.to_sql(name, conn, schema=schema, if_exists="append", index=False, chunksize=100_000)
    except _Refused as exc:
        raise OutputError(str(exc)) from None
    except (SQLAlchemyError, OSError, ValueError, TypeError) as exc:
        if _is_lock_timeout(exc):
            raise OutputError(
                f"Cannot write table {names} to {safe_url(url)}: another session holds a lock on it (an open "
                f"transaction); gave up after waiting {lock_timeout:g} s. Nothing was changed in the database. "
                f"End that transaction, or wait longer with {option('lock-timeout', 'SECONDS')}.") from None
        raise OutputError(f"Cannot write table {names} to {safe_url(url)}: {_scrub(_first_line(exc), url)}. "
                          "Nothing was changed in the database.") from None
    except Exception as exc:  # psycopg errors outside SQLAlchemy's wrapping (COPY)
        if type(exc).__module__.startswith("psycopg"):
            raise OutputError(f"Cannot write table {names} to {safe_url(url)}: {_scrub(_first_line(exc), url)}. "
                              "Nothing was changed in the database.") from None
        raise
    finally:
        engine.dispose()


def read_sql(url: str, table: str) -> pd.DataFrame:
    """Read a table back (for checks and notebooks)."""
    from sqlalchemy import text

    name, schema = check_sql_target(url, table)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            target = f'"{schema}"."{name}"' if schema else f'"{name}"'
            return pd.read_sql(text(f"SELECT * FROM {target}"), conn)
    finally:
        engine.dispose()


def _is_lock_timeout(exc: Exception) -> bool:
    """PostgreSQL's lock_not_available (SQLSTATE 55P03) or SQLite's "database is locked" (SQLITE_BUSY)."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) == "55P03" or getattr(orig, "pgcode", None) == "55P03":
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _scrub(text: str, url: str) -> str:
    """A driver's message with the URL's password (and any part of it 3 characters or longer) masked."""
    m = _SCHEME.match(str(url))
    rest = m.group(2) if m else ""
    userinfo = rest[:rest.rfind("@")] if "@" in rest else ""
    if ":" not in userinfo:
        return text
    secret = userinfo.split(":", 1)[1]
    parts = {secret, unquote(secret)}
    for piece in list(parts):
        parts.update(re.split(r"[:@/]", piece))
    for part in sorted((p for p in parts if len(p) >= 3), key=len, reverse=True):
        text = text.replace(part, "***")
    return text
