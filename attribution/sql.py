"""Writing result tables to SQL databases through SQLAlchemy 2 (SPEC 5, SPEC 6).

An output is a SQL target when it looks like a URL (``dialect[+driver]://...``): ``sqlite:///file.db``,
``postgresql://user@host/db`` (driven by psycopg 3), ``postgresql+psycopg://...``. The table is **replaced
inside one transaction**: drop, create and insert commit together, so a failed run leaves the previous table
exactly as it was. PostgreSQL has transactional DDL; for SQLite the pysqlite driver's implicit transaction
handling is switched off and the transaction is begun explicitly, as SQLAlchemy's documentation recommends, so
that the ``DROP TABLE`` is inside it too. PostgreSQL rows are loaded with one ``COPY ... FROM STDIN`` (the
frame is serialised by pandas' C CSV writer, so no Python loop runs per row); SQLite rows with ``executemany``.

Column types: text for strings, double precision for numbers, ``DATE`` for the ``period`` and ``*_date``
columns, timestamps with time zone for ``*_ts`` columns, bigint for integer columns. Passwords are never printed.

References
----------
.. [1] SQLAlchemy 2.0 documentation, "SQLite: Serializable isolation / Savepoints / Transactional DDL".
.. [2] psycopg 3 documentation, "Using COPY TO and COPY FROM".
"""

from __future__ import annotations

import io
import re

import pandas as pd

from .exceptions import OutputError, ParameterError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TABLE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$")


def is_sql_target(output: str | None) -> bool:
    """True when ``output`` is a database URL rather than a file path."""
    return bool(output) and bool(_URL.match(str(output)))


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL: mask anything between ':' and '@'
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))


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
    try:
        parsed = make_url(_normalise_url(url))
        parsed.get_dialect()
    except Exception as exc:  # noqa: BLE001 - unknown dialect or driver, malformed URL
        raise ParameterError(f"Cannot use the SQL output {safe_url(url)}: {_first_line(exc)}. "
                             "Use sqlite:///FILE.db or postgresql://USER@HOST/DB.") from None
    schema, _, name = table.rpartition(".")
    return name, schema or None


def _engine(url: str):
    from sqlalchemy import create_engine, event

    engine = create_engine(_normalise_url(url))
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


def _copy_postgres(conn, frame: pd.DataFrame, table: str, schema: str | None) -> None:
    """Bulk-load ``frame`` with one COPY in the connection's open transaction."""
    from psycopg import sql

    raw = conn.connection.driver_connection
    target = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(target, cols)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, na_rep="\\N", lineterminator="\n", float_format=None)
    with raw.cursor() as cur:
        with cur.copy(stmt) as copy:
            copy.write(buf.getvalue())


def write_sql(frame: pd.DataFrame, url: str, table: str) -> None:
    """Replace ``table`` at ``url`` with ``frame`` inside one transaction (all or nothing).

    Raises
    ------
    OutputError
        When the database refuses (nothing is changed: the previous table is intact).
    """
    name, schema = check_sql_target(url, table)
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(url)
    try:
        with engine.begin() as conn:
            dtypes = _sql_types(frame)
            frame.head(0).to_sql(name, conn, schema=schema, if_exists="replace", index=False, dtype=dtypes)
            if engine.dialect.name == "postgresql":
                _copy_postgres(conn, frame, name, schema)
            else:
                frame.to_sql(name, conn, schema=schema, if_exists="append", index=False, chunksize=100_000)
    except (SQLAlchemyError, OSError, ValueError, TypeError) as exc:
        raise OutputError(f"Cannot write table {table!r} to {safe_url(url)}: {_first_line(exc)}. "
                          "Nothing was changed in the database.") from None
    except Exception as exc:  # psycopg errors outside SQLAlchemy's wrapping (COPY)
        if type(exc).__module__.startswith("psycopg"):
            raise OutputError(f"Cannot write table {table!r} to {safe_url(url)}: {_first_line(exc)}. "
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


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
