"""The front door of event logs: a plain log (files in the canonical columns, or mapped onto them) or an
analytics export in its native shape (GA4, Segment, Snowplow), read and validated into
:class:`~attribution.io.events.Events`.

It sits above :mod:`attribution.io.events` (the container and its validation rules) and
:mod:`attribution.io.schemas` (the exports, which validate through the same rules).
"""

from __future__ import annotations

from attribution.exceptions import ParameterError, option
from attribution.io.csvread import CsvOptions
from attribution.io.events import Events, plan_read, validate_planned
from attribution.io.identity import Identity
from attribution.io.schemas import read_schema_events
from attribution.io.sources import read_schema_names
from attribution.io.timeparse import TimeRule


def read_events(
    sources,
    *,
    columns=None,
    on_bad_rows: str = "error",
    skip=(),
    delimiter: str | None = None,
    decimal: str = ".",
    encoding: str | None = None,
    epoch_unit: str | None = None,
    valid_years=None,
    time_range=None,
    schema: str | None = None,
    conversion_events=None,
    identity_map=None,
    journey_key: str | None = None,
) -> Events:
    """Read and validate an event log.

    Parameters
    ----------
    sources : str, path or list of them
        Parquet files, folders of Parquet files, globs, or CSV files.
    columns : dict or list of "canonical=actual", optional
        Column name mapping.
    on_bad_rows : {"error", "skip"}
        Raise on any broken rule (default) or drop the offending rows and count them.
    skip : sequence of str
        Optional canonical columns not to read even when the files have them (a run that reports no campaigns
        need not read them).
    delimiter, decimal, encoding : str, optional
        How CSV files are read (:mod:`attribution.io.csvread`): the delimiter (default: detected among ``,``
        ``;`` and tab), the decimal mark of revenue (``.`` or ``,``) and the encoding of files without a
        byte-order mark (default UTF-8).
    epoch_unit : {"s", "ms", "us", "ns"}, optional
        Unit of numeric timestamps; by default detected from their magnitude (:mod:`attribution.io.timeparse`).
    valid_years : str or (int, int), optional
        Plausible years, inclusive (default 1990:2100); timestamps outside are bad rows.
    time_range : (int or None, int or None), optional
        UTC epoch nanoseconds [lo, hi): Parquet row groups whose timestamp statistics show no row in it are not
        read (the rows read may still lie outside it; :func:`attribution.io.sources.read_columns`).
    schema : {"ga4", "segment", "snowplow"}, optional
        Read an analytics export in its native shape (:mod:`attribution.io.schemas`); ``conversion_events``
        then says which of its events are conversions (default: the schema's own).
    identity_map : str, path or pandas.DataFrame, optional
        ``id, person_id``: every event of a mapped id belongs to the person (:mod:`attribution.io.identity`).
    journey_key : str, optional
        A column (``account_id``) that replaces ``user_id`` for grouping events into journeys.

    Returns
    -------
    Events
        With ``ids_merged`` (distinct ids stitched into another) when an identity rule applied.

    Raises
    ------
    InputError
        With every broken rule: missing files or columns, unparsable timestamps, bad revenue, ...
    """
    time_rule = TimeRule.of(epoch_unit, valid_years)  # option errors before any reading
    identity = Identity.of(identity_map, journey_key)
    csv = CsvOptions.of(delimiter, decimal, encoding)
    if schema is not None:
        if columns:
            raise ParameterError(f"{option('schema')} maps the export's own fields; it takes no {option('column')} mapping.")
        return read_schema_events(sources, schema, conversion_events=conversion_events, identity=identity,
                                  on_bad_rows=on_bad_rows, csv=csv, time_rule=time_rule)
    plan = plan_read(sources, columns=columns, skip=skip, csv=csv)
    if identity is not None:
        identity.extend_plan(plan, lambda path: read_schema_names(path, csv))
    tables = [(path, plan.read(path, wanted, time_range)) for path, wanted in plan.files]
    return validate_planned(tables, plan, identity, on_bad_rows=on_bad_rows, time_rule=time_rule)
