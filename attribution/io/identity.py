"""Identity stitching: many ids of one person (devices, anonymous ids), and many contacts of one account.

Rules (``docs/input-formats.md``, "Identities and accounts"):

* An identity map (``id, person_id``) renames every event of a mapped id to its person id. The mapping is
  **retroactive**: all events of a mapped id belong to the person, whenever they happened (before or after the
  moment the id was first seen with the person). Ids the map does not name stay as they are. An id mapped to two
  different persons is bad input.
* Self-stitching (the ``--schema`` readers): an anonymous id that is ever seen together with a user id belongs to
  that user, retroactively; an anonymous id seen with several user ids (a shared device) belongs to the earliest
  one by event time (ties: the smallest user id). An event that carries a user id always belongs to it.
* A journey key (``--journey-key account_id``) replaces the user id for grouping: all events of an account's
  contacts make one journey. An event whose key is empty keeps its (stitched) user id as its journey.

User ids become strings once any of these rules applies (so that ids of either kind can be compared).
Everything is vectorised with ``pyarrow.compute`` (``index_in`` against the map, a sort for the earliest user id).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import InputError, ParameterError, Problem, option
from attribution.io.sources import read_columns, read_schema_names, resolve_sources


def _strings(col) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return col.cast(pa.string())


@dataclass(frozen=True)
class IdentityMap:
    """A validated ``id → person_id`` map (string arrays, ids unique).

    Attributes
    ----------
    ids, persons : pyarrow.Array of str
    label : str
        Where the map came from (for messages).
    """

    ids: pa.Array
    persons: pa.Array
    label: str = "<identity map>"

    @classmethod
    def of(cls, spec) -> "IdentityMap | None":
        """A map from a CSV / Parquet path, a pandas frame or ``IdentityMap`` (None: no map).

        Raises
        ------
        InputError
            Missing columns, empty ids or persons, or an id mapped to two different persons.
        """
        if spec is None or isinstance(spec, IdentityMap):
            return spec
        if isinstance(spec, pd.DataFrame):
            table, label = pa.Table.from_pandas(spec, preserve_index=False), "<identity map frame>"
        elif isinstance(spec, (str, os.PathLike)):
            label = os.fspath(spec)
            table = _read_map(label)
        else:
            raise ParameterError(f"The 'identity_map' option must be a CSV or Parquet path or a frame with columns "
                                 f"id, person_id. Got {type(spec).__name__} instead.")
        return cls.from_table(table, label)

    @classmethod
    def from_table(cls, table: pa.Table, label: str) -> "IdentityMap":
        found = ", ".join(table.column_names[:12])
        missing = [c for c in ("id", "person_id") if c not in table.column_names]
        if missing:
            raise InputError([Problem("column_missing", f"required column '{c}' is missing (columns found: {found})",
                                      "an identity map has two columns: id (any id of the log) and person_id",
                                      file=label, column=c) for c in missing])
        ids, persons = _strings(table["id"]), _strings(table["person_id"])
        empty = pc.or_(pc.fill_null(pc.equal(ids, ""), True), pc.fill_null(pc.equal(persons, ""), True))
        empty = empty.to_numpy(zero_copy_only=False)
        if empty.any():
            first = int(np.flatnonzero(empty)[0])
            raise InputError(Problem("identity_empty", "id and person_id must not be empty", "drop or fill the row",
                                     file=label, column="id", count=int(empty.sum()), first_row=first,
                                     example={"id": ids[first].as_py(), "person_id": persons[first].as_py()}))
        pairs = pa.table({"id": ids, "person_id": persons}).group_by(["id", "person_id"], use_threads=False) \
            .aggregate([]).sort_by([("id", "ascending"), ("person_id", "ascending")])
        counts = pairs.group_by("id", use_threads=False).aggregate([("person_id", "count")]) \
            .sort_by([("id", "ascending")])
        twice = pc.greater(counts["person_id_count"], 1).to_numpy(zero_copy_only=False)
        if twice.any():
            first_id = counts["id"][int(np.flatnonzero(twice)[0])].as_py()
            names = pairs.filter(pc.equal(pairs["id"], first_id))["person_id"].to_pylist()
            rows = np.flatnonzero(pc.equal(ids, first_id).to_numpy(zero_copy_only=False))
            raise InputError(Problem("identity_ambiguous", "an id must map to one person_id only",
                                     "keep one person per id (merge the persons first if they are one)",
                                     file=label, column="id", count=int(twice.sum()), first_row=int(rows[1]),
                                     example={"id": first_id, "person_id": names}))
        return cls(pairs["id"].combine_chunks(), pairs["person_id"].combine_chunks(), label)

    def apply(self, user) -> tuple[pa.Array, int]:
        """Rename mapped ids to their person ids; returns the new ids and how many distinct ids were merged
        into another (an id mapped to itself is not counted)."""
        user = _strings(user)
        at = pc.index_in(user, value_set=self.ids)
        mapped = pc.take(self.persons, at)
        merged_mask = pc.and_(pc.is_valid(at), pc.not_equal(mapped, user))
        merged = pc.count_distinct(pc.filter(user, merged_mask)).as_py()
        return pc.coalesce(mapped, user), int(merged)


def _read_map(path: str) -> pa.Table:
    resolve_sources([path])  # a missing file or an unknown format: one clear message
    names = read_schema_names(path)
    wanted = [c for c in ("id", "person_id") if c in names]
    if len(wanted) < 2:
        return pa.table({str(n): pa.nulls(0) for n in names})
    return read_columns(path, wanted).drop_columns(["_row"])


def self_stitch(anonymous, user, timestamp_ns: np.ndarray) -> tuple[pa.Array, int]:
    """Person of every event from its anonymous id and its (often empty) user id.

    An event with a user id belongs to it; an anonymous id ever seen with a user id belongs to the earliest such
    user id (by event time, ties by the smaller user id), retroactively; otherwise the anonymous id stays.

    Returns
    -------
    persons : pyarrow.Array of str
    merged : int
        Distinct anonymous ids stitched to a user id.
    """
    anonymous, user = _strings(anonymous), _strings(user)
    user = pc.if_else(pc.equal(user, ""), pa.scalar(None, pa.string()), user)
    seen = pa.table({"anon": anonymous, "user": user, "ts": pa.array(timestamp_ns, pa.int64())})
    seen = seen.filter(pc.and_(pc.is_valid(seen["anon"]), pc.is_valid(seen["user"])))
    seen = seen.sort_by([("anon", "ascending"), ("ts", "ascending"), ("user", "ascending")])
    if seen.num_rows:
        anon = seen["anon"].combine_chunks()
        first = np.ones(len(anon), bool)
        first[1:] = pc.not_equal(anon.slice(1), anon.slice(0, len(anon) - 1)).to_numpy(zero_copy_only=False)
        keys, persons = anon.filter(pa.array(first)), seen["user"].combine_chunks().filter(pa.array(first))
        linked = pc.take(persons, pc.index_in(anonymous, value_set=keys))
    else:
        keys, linked = pa.array([], pa.string()), pa.nulls(len(anonymous), pa.string())
    return pc.coalesce(user, linked, anonymous), int(len(keys))


def apply_journey_key(user, key) -> pa.Array:
    """The journey of every event: its ``key`` (account), or its user id where the key is empty."""
    key = _strings(key)
    key = pc.if_else(pc.equal(key, ""), pa.scalar(None, pa.string()), key)
    return pc.coalesce(key, _strings(user))


@dataclass(frozen=True)
class Identity:
    """How events are grouped into persons before journeys: an :class:`IdentityMap` and / or a journey key.

    Attributes
    ----------
    map : IdentityMap or None
    journey_key : str or None
        Name (in the files) of the column that replaces ``user_id`` for grouping (e.g. ``account_id``).
    """

    map: IdentityMap | None = None
    journey_key: str | None = None

    @classmethod
    def of(cls, identity_map=None, journey_key=None) -> "Identity | None":
        """The identity rules of a run (None: none); ``identity_map`` may already be an :class:`Identity`."""
        if isinstance(identity_map, Identity) and journey_key is None:
            return identity_map
        if identity_map is None and journey_key is None:
            return None
        if journey_key is not None and (not isinstance(journey_key, str) or not journey_key.strip()):
            raise ParameterError(f"The {option('journey-key', quoted=True)} option must name a column (e.g. account_id). "
                                 f"Got {journey_key!r} instead.")
        return cls(IdentityMap.of(identity_map), journey_key.strip() if journey_key else None)

    def extend_plan(self, plan, names_of) -> None:
        """Add the journey-key column to every planned file (``names_of(path)`` lists a file's columns)."""
        if self.journey_key is None:
            return
        problems = []
        for path, wanted in plan.files:
            names = names_of(path)
            if self.journey_key not in names:
                found = ", ".join(map(str, names[:12])) + (", ..." if len(names) > 12 else "")
                problems.append(Problem("column_missing", f"{option('journey-key')} column '{self.journey_key}' is missing "
                                        f"(columns found: {found})", f"name a column of the log with {option('journey-key')}",
                                        file=path, column=self.journey_key))
            elif self.journey_key not in wanted:
                wanted.append(self.journey_key)
        if problems:
            raise InputError(problems)

    def apply(self, tables, user_column: str = "user_id") -> tuple[list, int]:
        """``[(file, table), ...]`` with ``user_column`` replaced by the person (then the journey key); returns
        them and the number of distinct ids merged (ids stitched into another)."""
        out, merged_ids = [], []
        for path, table in tables:
            user = table[user_column]
            if self.map is not None:
                user, _ = self.map.apply(user)
                merged_ids.append(pc.unique(pc.filter(_strings(table[user_column]), pc.not_equal(
                    _strings(table[user_column]), user))))
            if self.journey_key is not None:
                user = apply_journey_key(user, table[self.journey_key])
                table = table.drop_columns([self.journey_key])
            out.append((path, table.set_column(table.column_names.index(user_column), user_column, user)))
        merged = len(pc.unique(pa.concat_arrays(merged_ids))) if merged_ids else 0
        return out, merged
