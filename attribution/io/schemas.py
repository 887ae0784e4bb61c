"""Analytics exports read as they come: GA4 (BigQuery export), Segment and Snowplow → canonical event columns.

Each reader maps an export's native, often nested, shape to the canonical columns (``user_id, timestamp, event,
channel, revenue, campaign, source, medium``) before the usual validation (:func:`attribution.io.events.
validate_tables`): it decides which events are touches (renamed ``touch``, with their source / medium / campaign)
and which are conversions (their names kept), stitches anonymous ids to user ids
(:func:`attribution.io.identity.self_stitch`) and derives every touch's channel with GA4's default channel group
(:mod:`attribution.io.channel_groups`). Other events keep their names and are ignored by the journeys. The rules
of each schema are in ``docs/input-formats.md``. Everything is vectorised with ``pyarrow.compute``.

References
----------
.. [1] Google Analytics help, "[GA4] BigQuery Export schema" (event_params, collected_traffic_source,
   traffic_source, ecommerce).
.. [2] Segment docs, "Spec: Common fields" (anonymousId, userId, context.campaign) and "Spec: V2 Ecommerce
   Events" (Order Completed, revenue).
.. [3] Snowplow docs, "Canonical event model" (atomic events: domain_userid, derived_tstamp, mkt_*, refr_*,
   tr_total).
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from attribution.exceptions import InputError, ParameterError, Problem, option
from attribution.io.channel_groups import GA4_RULES, group_table
from attribution.io.columns import NOT_NUMERIC, parse_numbers
from attribution.io.csvread import read_csv
from attribution.io.events import TOUCH_EVENT, validate_tables
from attribution.io.identity import self_stitch
from attribution.io.sources import file_kind, read_schema_names, resolve_sources, unreadable
from attribution.io.timeparse import to_epoch_ns

SCHEMAS = ("ga4", "segment", "snowplow")
#: conversion events of each schema when none are given
DEFAULT_CONVERSIONS = {"ga4": ("purchase",), "segment": ("Order Completed",), "snowplow": ("transaction",)}
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
#: native fields each schema needs (one of each group); shown when a file does not fit
REQUIRED_FIELDS = {
    "ga4": (("user_pseudo_id", "user_id"), ("event_timestamp",), ("event_name",)),
    "segment": (("anonymousId", "userId"), ("timestamp",), ("type",)),
    "snowplow": (("domain_userid", "user_id"), ("derived_tstamp",), ("event_name", "event")),
}
#: Snowplow referer mediums that are touches, and the medium they stand for in the channel grouping
REFERER_MEDIUM = {"search": "organic", "social": "social", "email": "email", "unknown": "referral"}


def check_schema(schema) -> str | None:
    """``schema`` lower-cased and checked (None: no schema)."""
    if schema is None:
        return None
    name = str(schema).strip().lower()
    if name not in SCHEMAS:
        raise ParameterError(f"The {option('schema', quoted=True)} option must be one of {', '.join(SCHEMAS)}. Got {schema!r} instead.")
    return name


def resolve(sources) -> list[str]:
    """Files of a schema input: Parquet, CSV (Snowplow) or newline-delimited JSON files, folders and globs."""
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    json_files = [os.fspath(s) for s in sources if os.fspath(s).lower().endswith(JSON_SUFFIXES)]
    missing = [f for f in json_files if not os.path.isfile(f)]
    if missing:
        raise InputError([Problem("file_missing", "the file does not exist", "check the path", file=f)
                          for f in missing])
    others = [s for s in sources if os.fspath(s) not in json_files]
    files = json_files + (resolve_sources(others) if others else [])
    return sorted(dict.fromkeys(files))


def read_native(path: str, csv=None) -> pa.Table:
    """One export file as read: newline-delimited JSON (nested), Parquet (nested) or CSV (flat)."""
    try:
        if path.lower().endswith(JSON_SUFFIXES):
            return pj.read_json(path)
        if file_kind(path) == "parquet":
            return pq.read_table(path)
        return read_csv(path, read_schema_names(path, csv), csv, ("tr_total",))
    except (pa.ArrowInvalid, OSError, UnicodeError) as exc:
        if path.lower().endswith(JSON_SUFFIXES):
            raise InputError(Problem("unreadable", f"the file cannot be read as newline-delimited JSON "
                                     f"({str(exc).strip().splitlines()[0][:300] if str(exc).strip() else exc!r})",
                                     "write one JSON object per line, each field with one type in every line",
                                     file=path)) from None
        raise unreadable(path, exc) from None


def field(table: pa.Table, dotted: str):
    """A nested field (``collected_traffic_source.manual_source``) as one array, or None when absent."""
    head, *rest = dotted.split(".")
    if head not in table.column_names:
        return None
    col = table[head]
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    for name in rest:
        if not pa.types.is_struct(col.type) or col.type.get_field_index(name) < 0:
            return None
        col = pc.struct_field(col, name)
    return col


def _text(col, n: int) -> pa.Array:
    """Strings, empty ones null (null everywhere when the field is absent)."""
    if col is None or pa.types.is_null(col.type):
        return pa.nulls(n, pa.string())
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    col = col.cast(pa.string())
    # the null scalar is made here, not at import: an Arrow allocation at import would set up Arrow's memory pool
    # (about 1 GB of reserved address space) for every command, before any work
    return pc.if_else(pc.equal(pc.utf8_trim_whitespace(col), ""), pa.scalar(None, pa.string()), col)


def _number(col, n: int, name: str, rows=None) -> pa.Array:
    """Numbers of an export's field (null where empty or absent), read as
    :func:`attribution.io.columns.parse_numbers` reads them (text numbers too: BigQuery's JSON export writes
    integers as strings).

    Parameters
    ----------
    col : pyarrow.Array or None
    n : int
        Its length (when absent).
    name : str
        The field, for the message.
    rows : numpy.ndarray, optional
        The export row of each value (default: its position).

    Raises
    ------
    InputError
        For values that are not numbers (text, booleans): ``not_numeric``, naming the field (the caller adds
        the file).
    """
    if col is None or pa.types.is_null(col.type):
        return pa.nulls(n, pa.float64())
    values, empty, not_number = parse_numbers(col)
    if not_number.any():
        i = int(np.flatnonzero(not_number)[0])
        raise InputError(Problem(NOT_NUMERIC, "must be a number", "fix the export's values, or leave them empty",
                                 column=name, count=int(not_number.sum()),
                                 first_row=int(rows[i]) if rows is not None else i, example={name: col[i].as_py()}))
    return pa.array(values, pa.float64(), mask=empty)


def check_shape(table: pa.Table, path: str, schema: str) -> None:
    """Raise :class:`InputError` listing the fields ``schema`` expects and the columns found."""
    missing = [" or ".join(group) for group in REQUIRED_FIELDS[schema]
               if not any(field(table, f) is not None for f in group)]
    if missing:
        found = ", ".join(table.column_names[:15]) + (", ..." if table.num_columns > 15 else "")
        expected = "; ".join(" or ".join(g) for g in REQUIRED_FIELDS[schema])
        raise InputError(Problem(
            "schema_mismatch", f"{option('schema', schema)} expects the fields {expected}; missing: {', '.join(missing)} "
            f"(columns found: {found})", "check that the file is a " + {"ga4": "GA4 BigQuery export (Parquet or "
            "newline-delimited JSON)", "segment": "Segment event export (JSON lines or Parquet)", "snowplow":
            "Snowplow atomic events export"}[schema] + f", or read it without {option('schema')}", file=path))


def param(params, key: str, n: int, kind: str = "string"):
    """GA4 ``event_params`` value of ``key`` per event (null where absent; the last one when repeated).

    ``kind`` is ``"string"`` (string_value) or ``"number"`` (double, float or int value, first set)."""
    if params is None or n == 0:
        return pa.nulls(n, pa.string() if kind == "string" else pa.float64())
    flat = pc.list_flatten(params)
    parent = pc.list_parent_indices(params).to_numpy(zero_copy_only=False)
    hit = pc.fill_null(pc.equal(pc.struct_field(flat, "key"), key), False)
    value = pc.struct_field(flat, "value") if flat.type.get_field_index("value") >= 0 else None

    def sub(name):
        return pc.struct_field(value, name) if value is not None and value.type.get_field_index(name) >= 0 else None

    if kind == "string":
        values = _text(sub("string_value"), len(flat))
    else:
        values = pc.coalesce(*[_number(sub(f), len(flat), f"event_params.{key}.value.{f}", rows=parent)
                               for f in ("double_value", "float_value", "int_value")])
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    at = np.full(n, -1, np.int64)
    at[parent[rows]] = rows
    return values.take(pa.array(at, mask=at < 0))


def ga4_frame(table: pa.Table, conversions) -> pd.DataFrame:
    """GA4 BigQuery export rows → one row per emitted event (touches, conversions, other events)."""
    n = table.num_rows
    params = field(table, "event_params")
    event = _text(field(table, "event_name"), n)

    def pick(native: str, key: str):
        return pc.coalesce(_text(field(table, native), n), param(params, key, n))

    source = pick("collected_traffic_source.manual_source", "source")
    medium = pick("collected_traffic_source.manual_medium", "medium")
    campaign = pick("collected_traffic_source.manual_campaign_name", "campaign")
    gclid = pick("collected_traffic_source.gclid", "gclid")
    paid = pc.and_(pc.is_valid(gclid), pc.is_null(source))  # an ad click without utm tags: google / cpc
    source = pc.if_else(paid, "google", source)
    medium = pc.if_else(paid, pc.coalesce(medium, pa.scalar("cpc")), medium)
    first = pc.and_(pc.fill_null(pc.equal(event, "first_visit"), False),
                    pc.and_(pc.is_null(source), pc.is_null(medium)))  # the user's acquisition source
    source = pc.if_else(first, _text(field(table, "traffic_source.source"), n), source)
    medium = pc.if_else(first, _text(field(table, "traffic_source.medium"), n), medium)
    campaign = pc.if_else(first, _text(field(table, "traffic_source.name"), n), campaign)
    revenue = pc.coalesce(_number(field(table, "ecommerce.purchase_revenue"), n, "ecommerce.purchase_revenue"),
                          param(params, "value", n, "number"))
    ts = _microseconds(field(table, "event_timestamp"))
    frame = pd.DataFrame({
        "anon": _text(field(table, "user_pseudo_id"), n).to_pandas(), "user": _text(field(table, "user_id"), n)
        .to_pandas(), "event": event.to_pandas(), "source": source.to_pandas(), "medium": medium.to_pandas(),
        "campaign": campaign.to_pandas(), "revenue": revenue.to_pandas(), "_row": np.arange(n)})
    frame["session"] = param(params, "ga_session_id", n, "number").to_pandas()
    frame["timestamp"] = ts.to_pandas() if ts is not None else None
    return _sessions_to_touches(frame, conversions)


def _microseconds(ts):
    """GA4 ``event_timestamp`` (epoch microseconds; BigQuery's JSON export writes INT64 values as strings) as a
    UTC timestamp array; other values are left for validation to report."""
    if ts is None:
        return None
    if pa.types.is_string(ts.type) or pa.types.is_large_string(ts.type):
        digits = pc.fill_null(pc.match_substring_regex(ts, r"^\s*\d+\s*$"), True)
        if not pc.all(digits).as_py():
            return ts
        ts = pc.cast(pc.utf8_trim_whitespace(ts), pa.int64())
    if pa.types.is_integer(ts.type) or pa.types.is_floating(ts.type):
        return ts.cast(pa.int64(), safe=False).cast(pa.timestamp("us", tz="UTC"))
    return ts


def _sessions_to_touches(frame: pd.DataFrame, conversions) -> pd.DataFrame:
    """GA4 touch rule: per session (user_pseudo_id, ga_session_id) the earliest event of each distinct traffic
    source is a touch; a ``session_start`` of a session without any is a Direct touch."""
    person = frame["anon"].fillna(frame["user"])
    session = frame["session"].astype(object).where(frame["session"].notna(), -1 - frame["_row"])  # no id: alone
    sourced = frame["source"].notna() | frame["medium"].notna()
    keys = pd.DataFrame({"p": person, "s": session})
    cand = frame[sourced].assign(p=person[sourced], s=session[sourced])
    cand = cand.sort_values("timestamp", kind="stable", na_position="last")
    first_touch = cand.drop_duplicates(["p", "s", "source", "medium", "campaign"], keep="first").index
    with_source = pd.MultiIndex.from_frame(keys[sourced])
    start = frame["event"].eq("session_start") & ~pd.MultiIndex.from_frame(keys).isin(with_source)
    touch = pd.Series(False, index=frame.index)
    touch[first_touch] = True
    frame = frame.copy()
    frame.loc[start, ["source", "medium"]] = ["(direct)", "(none)"]
    touch |= start
    return emit(frame, touch, conversions)


def emit(frame: pd.DataFrame, touch: pd.Series, conversions) -> pd.DataFrame:
    """Canonical rows: every touch as ``touch`` (a conversion that is also a touch gives both rows, the touch
    first), conversions with their names and revenue, other events as they are (no source, no revenue)."""
    conv = frame["event"].isin(list(conversions))
    base = frame.assign(revenue=frame["revenue"].where(conv))
    base.loc[~touch | conv, ["source", "medium", "campaign"]] = None
    base.loc[touch & ~conv, "event"] = TOUCH_EVENT
    extra = frame[touch & conv].assign(event=TOUCH_EVENT, revenue=np.nan)
    out = pd.concat([extra.assign(_k=0), base.assign(_k=1)]).sort_values(["_row", "_k"], kind="stable")
    return out.drop(columns="_k").reset_index(drop=True)


def segment_frame(table: pa.Table, conversions) -> pd.DataFrame:
    """Segment rows → emitted rows. Touches: page / screen calls with a campaign source or medium; track calls
    with one only for anonymous ids that send no page or screen calls (server-side sources)."""
    n = table.num_rows
    kind = _text(field(table, "type"), n).to_pandas()
    name = _text(field(table, "event"), n).to_pandas()
    anon = _text(field(table, "anonymousId"), n).to_pandas()
    revenue = pc.coalesce(_number(field(table, "properties.revenue"), n, "properties.revenue"),
                          _number(field(table, "properties.total"), n, "properties.total"))
    frame = pd.DataFrame({
        "anon": anon, "user": _text(field(table, "userId"), n).to_pandas(),
        "event": name.where(kind.eq("track"), kind), "source": _text(field(table, "context.campaign.source"), n)
        .to_pandas(), "medium": _text(field(table, "context.campaign.medium"), n).to_pandas(),
        "campaign": _text(field(table, "context.campaign.name"), n).to_pandas(), "revenue": revenue.to_pandas(),
        "timestamp": field(table, "timestamp").to_pandas(), "_row": np.arange(n)})
    sourced = frame["source"].notna() | frame["medium"].notna()
    viewed = kind.isin(["page", "screen"])
    pages = set(frame["anon"].where(frame["anon"].notna(), frame["user"])[viewed].dropna())
    who = frame["anon"].where(frame["anon"].notna(), frame["user"])
    touch = sourced & (viewed | (kind.eq("track") & ~who.isin(pages)))
    return emit(frame, touch, conversions)


def snowplow_frame(table: pa.Table, conversions) -> pd.DataFrame:
    """Snowplow atomic rows → emitted rows. Touches: page views with ``mkt_source`` / ``mkt_medium``, else with
    an external referer (``refr_medium`` search, social, email or unknown; ``internal`` is not a touch)."""
    n = table.num_rows
    event = pc.coalesce(_text(field(table, "event_name"), n), _text(field(table, "event"), n)).to_pandas()
    mkt_source = _text(field(table, "mkt_source"), n).to_pandas()
    mkt_medium = _text(field(table, "mkt_medium"), n).to_pandas()
    refr = _text(field(table, "refr_medium"), n).to_pandas().str.lower()
    tagged = mkt_source.notna() | mkt_medium.notna()
    referred = ~tagged & refr.isin(list(REFERER_MEDIUM))
    frame = pd.DataFrame({
        "anon": _text(field(table, "domain_userid"), n).to_pandas(), "user": _text(field(table, "user_id"), n)
        .to_pandas(), "event": event,
        "source": mkt_source.where(tagged, _text(field(table, "refr_source"), n).to_pandas().where(referred)),
        "medium": mkt_medium.where(tagged, refr.map(REFERER_MEDIUM).where(referred)),
        "campaign": _text(field(table, "mkt_campaign"), n).to_pandas().where(tagged),
        "revenue": _number(field(table, "tr_total"), n, "tr_total").to_pandas(),
        "timestamp": field(table, "derived_tstamp").to_pandas(), "_row": np.arange(n)})
    touch = event.eq("page_view") & (tagged | referred)
    return emit(frame, touch, conversions)


MAPPERS = {"ga4": ga4_frame, "segment": segment_frame, "snowplow": snowplow_frame}


def read_schema_events(sources, schema: str, *, conversion_events=None, identity=None, on_bad_rows: str = "error",
                       csv=None, time_rule=None):
    """Read an export in its native ``schema`` into validated :class:`~attribution.io.events.Events`.

    Parameters
    ----------
    sources : str, path or list
        Files (Parquet, newline-delimited JSON, CSV for Snowplow), folders of Parquet files or globs.
    schema : {"ga4", "segment", "snowplow"}
    conversion_events : sequence of str, optional
        Event names that are conversions (default: :data:`DEFAULT_CONVERSIONS` of the schema).
    identity : attribution.io.identity.Identity, optional
        An identity map and / or a journey key (a column, or a dotted nested field, of the export), applied
        after the schema's own stitching.
    on_bad_rows, csv
        As :func:`attribution.io.reader.read_events`.
    time_rule : attribution.io.timeparse.TimeRule, optional
        How timestamps are validated (epoch unit, plausible years); GA4's microseconds are typed before it.

    Returns
    -------
    Events
        With ``ids_merged``: distinct ids stitched into another (self-stitching plus the identity map).
    """
    schema = check_schema(schema)
    conversions = tuple(conversion_events or ()) or DEFAULT_CONVERSIONS[schema]
    files = resolve(sources)
    frames = []
    for path in files:
        table = read_native(path, csv)
        check_shape(table, path, schema)
        try:
            frame = MAPPERS[schema](table, conversions)
        except InputError as exc:  # the mappers name the field; the file is known here
            raise InputError([replace(p, file=path) for p in exc.problems]) from None
        if identity is not None and identity.journey_key is not None:
            key = field(table, identity.journey_key)
            if key is None:
                found = ", ".join(table.column_names[:15])
                raise InputError(Problem("column_missing", f"{option('journey-key')} field '{identity.journey_key}' is "
                                         f"missing (columns found: {found})", "name a field of the export (nested "
                                         "fields as parent.child)", file=path, column=identity.journey_key))
            frame[identity.journey_key] = _text(key, table.num_rows).take(pa.array(frame["_row"])).to_pandas()
        frames.append(frame)
    stamps = [to_epoch_ns(pa.Array.from_pandas(f["timestamp"]))[0] for f in frames]
    persons, merged = self_stitch(pa.array(pd.concat([f["anon"] for f in frames]), pa.string(), from_pandas=True),
                                  pa.array(pd.concat([f["user"] for f in frames]), pa.string(), from_pandas=True),
                                  np.concatenate(stamps) if stamps else np.zeros(0, np.int64))
    tables, at = [], 0
    for path, frame in zip(files, frames):
        cols = {"user_id": persons.slice(at, len(frame)), "timestamp": pa.Array.from_pandas(frame["timestamp"]),
                "event": pa.array(frame["event"], pa.string(), from_pandas=True)}
        for name in ("source", "medium", "campaign"):
            cols[name] = pa.array(frame[name], pa.string(), from_pandas=True)
        cols["revenue"] = pa.array(frame["revenue"], pa.float64(), from_pandas=True)
        cols["_row"] = pa.array(frame["_row"], pa.int64())
        if identity is not None and identity.journey_key is not None:
            cols[identity.journey_key] = pa.array(frame[identity.journey_key], pa.string(), from_pandas=True)
        tables.append((path, pa.table(cols)))
        at += len(frame)
    if identity is not None:
        tables, mapped = identity.apply(tables)
        merged += mapped
    tables = [(path, group_table(t, GA4_RULES, file=path)[0]) for path, t in tables]
    events = validate_tables(tables, on_bad_rows=on_bad_rows, time_rule=time_rule)
    events.ids_merged = merged
    events.schema = schema
    return events


def canonical_log(sources, schema: str, conversion_events=None, csv=None) -> tuple[pa.Table, list[str]]:
    """An export as a canonical event log (``attribution channels --schema``): user_id, timestamp (UTC), event,
    channel, revenue, campaign, source, medium, and the files read."""
    events = read_schema_events(sources, schema, conversion_events=conversion_events, csv=csv)
    table = events.table.drop_columns(["_row", "_file"])
    ts = table["timestamp"].cast(pa.timestamp("ns", tz="UTC"))
    return table.set_column(table.column_names.index("timestamp"), "timestamp", ts), events.files
