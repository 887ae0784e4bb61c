"""Channel grouping: derive a touch's channel from its ``source`` / ``medium`` (/ ``campaign``) by ordered rules.

Rules are tried in order, case-insensitively, and the first match wins, as in Google Analytics 4's *default
channel group*. :data:`GA4_RULES` follows GA4's published definitions, with its long lists of known sites cut
to the common ones (:data:`SITES`). Users can supply their own rule table (CSV or a frame with
``channel, source, medium, campaign``: regular expressions matched against the whole lower-cased value, empty =
any). Everything is vectorised with ``pyarrow.compute`` (one regex pass per rule and column).

References
----------
.. [1] Google Analytics 4 help, "[GA4] Default channel group" (rules and their order).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import InputError, ParameterError, Problem, option
from attribution.io.columns import absent_mappings, check_column_map, parse_column_map
from attribution.io.csvread import CsvOptions
from attribution.io.events import CANONICAL, REQUIRED, TOUCH_EVENT, ReadPlan, validate_planned
from attribution.io.sources import plan_columns, read_schema_names, resolve_sources
from attribution.io.timeparse import TimeRule
from attribution.kernels.encoding import compact_codes, encode_sorted

UNASSIGNED = "Unassigned"

SITES = {
    "search": ["google", "bing", "yahoo", "baidu", "duckduckgo", "yandex", "ecosia", "naver", "ask", "search",
               "startpage", "qwant", "seznam", "sogou", "aol"],
    "social": ["facebook", "fb", "instagram", "ig", "linkedin", "lnkd.in", "twitter", "t.co", "x.com", "pinterest",
               "reddit", "tiktok", "snapchat", "quora", "threads", "tumblr", "whatsapp", "messenger", "discord",
               "vk", "weibo", "xing", "meta"],
    "video": ["youtube", "vimeo", "twitch", "dailymotion", "wistia", "youku"],
    "shopping": ["amazon", "ebay", "etsy", "shopify", "walmart", "aliexpress", "shopping", "google shopping",
                 "igshopping", "rakuten", "zalando"],
}
PAID = r"^(.*cp.*|ppc|retargeting|paid.*)$"


def _sites(kind: str) -> str:
    """Regex matching a source that is, or is a sub-domain / path of, one of the known sites."""
    names = "|".join(re.escape(s) for s in SITES[kind])
    return rf"^(.*[.\-_ /])?({names})([.\-_ /].*)?$"


@dataclass(frozen=True)
class Rule:
    """One channel rule: every given pattern must match (full match, lower-cased); None = any value.

    ``any_of`` holds alternative (source, medium, campaign) pattern triples, one of which must match.
    """

    channel: str
    any_of: tuple[tuple[str | None, str | None, str | None], ...]


GA4_RULES: tuple[Rule, ...] = (
    Rule("Direct", ((r"^\(direct\)$", r"^(\(not set\)|\(none\))$", None),)),
    Rule("Cross-network", ((None, None, r"^.*cross-network.*$"),)),
    Rule("Paid Shopping", ((_sites("shopping"), PAID, None), (None, PAID, r"^(.*(([^a-df-z]|^)shop|shopping).*)$"))),
    Rule("Paid Search", ((_sites("search"), PAID, None),)),
    Rule("Paid Social", ((_sites("social"), PAID, None),)),
    Rule("Paid Video", ((_sites("video"), PAID, None),)),
    Rule("Display", ((None, r"^(display|banner|expandable|interstitial|cpm)$", None),)),
    Rule("Paid Other", ((None, PAID, None),)),
    Rule("Organic Shopping", ((_sites("shopping"), None, None), (None, None, r"^(.*(([^a-df-z]|^)shop|shopping).*)$"))),
    Rule("Organic Social", ((_sites("social"), None, None),
                            (None, r"^(social|social-network|social-media|sm|social network|social media)$", None))),
    Rule("Organic Video", ((_sites("video"), None, None), (None, r"^(.*video.*)$", None))),
    Rule("Organic Search", ((_sites("search"), None, None), (None, r"^organic$", None))),
    Rule("Referral", ((None, r"^(referral|app|link)$", None),)),
    Rule("Email", ((r"^(email|e-mail|e_mail|e mail)$", None, None), (None, r"^(email|e-mail|e_mail|e mail)$", None))),
    Rule("Affiliates", ((None, r"^affiliate$", None),)),
    Rule("Audio", ((None, r"^audio$", None),)),
    Rule("SMS", ((r"^sms$", None, None), (None, r"^sms$", None))),
    Rule("Mobile Push Notifications", ((None, r"^(.*push$|.*mobile.*|.*notification.*)$", None),
                                       (r"^firebase$", None, None))),
)


def _lower(values, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, pa.string())
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.utf8_lower(pc.utf8_trim_whitespace(arr.cast(pa.string())))


def _match(values: pa.Array, pattern: str | None) -> np.ndarray:
    if pattern is None:
        return np.ones(len(values), bool)
    return pc.fill_null(pc.match_substring_regex(values, pattern), False).to_numpy(zero_copy_only=False)


def assign_channels(source=None, medium=None, campaign=None, rules=GA4_RULES, default: str = UNASSIGNED) -> pa.Array:
    """The channel of every row by the first matching rule (``default`` where none matches).

    Parameters
    ----------
    source, medium, campaign : array-like of str or None
        Per-row values (any may be missing); matching is case-insensitive on trimmed values.
    rules : sequence of Rule, or a rules frame (see :func:`rules_from_frame`)

    Returns
    -------
    pyarrow.Array of str
    """
    given = [v for v in (source, medium, campaign) if v is not None]
    n = len(given[0]) if given else 0
    cols = [_lower(source, n), _lower(medium, n), _lower(campaign, n)]
    if isinstance(rules, pd.DataFrame):
        rules = rules_from_frame(rules)
    choice = np.full(n, -1, np.int64)
    for i, rule in enumerate(rules):
        hit = np.zeros(n, bool)
        for triple in rule.any_of:
            ok = np.ones(n, bool)
            for col, pattern in zip(cols, triple):
                if pattern is not None:
                    ok &= _match(col, pattern)
            hit |= ok
        choice = np.where((choice < 0) & hit, i, choice)
    names = np.array([r.channel for r in rules] + [default], dtype=object)
    return pa.array(names[np.where(choice < 0, len(rules), choice)].tolist(), pa.string())


def rules_from_frame(frame: pd.DataFrame, file: str = "<rules>") -> tuple[Rule, ...]:
    """User rules from a table ``channel, source, medium[, campaign]`` (regexes; empty = any), in row order.

    Each pattern must match the whole lower-cased value. Rows with the same channel are alternatives.
    """
    missing = [c for c in ("channel",) if c not in frame.columns]
    if missing or not ({"source", "medium", "campaign"} & set(frame.columns)):
        raise InputError(Problem("column_missing", "a channel rules table needs 'channel' and at least one of "
                                 "'source', 'medium', 'campaign'", "add the columns (regexes, empty = any)",
                                 file=file, column="channel"))
    rules: list[Rule] = []
    order: dict[str, int] = {}
    for row, rec in enumerate(frame.to_dict("records")):  # a loop per rule, not per event
        triple = []
        for col in ("source", "medium", "campaign"):
            value = rec.get(col)
            if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
                triple.append(None)
                continue
            pattern = f"^(?:{str(value).strip().lower()})$"
            try:
                re.compile(pattern)
            except re.error as exc:
                raise InputError(Problem("rule_regex_invalid", f"is not a valid regular expression ({exc})",
                                         "fix the pattern (Python/RE2 regular expression syntax)", file=file,
                                         column=col, count=1, first_row=row, example={col: value})) from None
            triple.append(pattern)
        channel = str(rec["channel"]).strip()
        if channel in order:
            prev = rules[order[channel]]
            rules[order[channel]] = Rule(channel, prev.any_of + (tuple(triple),))
        else:
            order[channel] = len(rules)
            rules.append(Rule(channel, (tuple(triple),)))
    return tuple(rules)


def load_rules(spec: str) -> tuple[Rule, ...]:
    """``ga4`` (built in) or the path of a CSV rules table."""
    if spec.strip().lower() == "ga4":
        return GA4_RULES
    if not os.path.isfile(spec):
        raise ParameterError(f"The {option('channel-grouping', quoted=True)} option must be 'ga4' or a CSV file of rules "
                             f"(channel, source, medium, campaign). Got {spec!r} instead.")
    return rules_from_frame(pd.read_csv(spec, dtype=str, keep_default_na=False), file=spec)


GROUP_COLUMNS = ("source", "medium", "campaign")


def _combinations(columns: list, n: int) -> tuple[np.ndarray, list[pa.Array]]:
    """Row → index of its distinct combination of ``columns`` values, and each combination's values per column.

    One hash pass per column over integer keys (no per-row strings are built), so the rules then run once per
    distinct (source, medium, campaign) combination instead of once per row.
    """
    inverse = np.zeros(n, np.int64)
    per_combo: list[np.ndarray] = []  # per column: the code of each combination's value (-1 = null)
    vocabs = []
    for col in columns:
        codes, vocab = encode_sorted(col)
        width = len(vocab) + 1
        enc = pc.dictionary_encode(pa.array(inverse * width + (codes + 1), pa.int64()))
        inverse = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        keys = enc.dictionary.to_numpy(zero_copy_only=False)
        per_combo = [c[keys // width] for c in per_combo] + [keys % width - 1]
        vocabs.append(vocab.cast(pa.string()))
    values = []
    for codes, vocab in zip(per_combo, vocabs):
        values.append(vocab.take(pa.array(codes, mask=codes < 0)) if len(vocab) else pa.nulls(len(codes), pa.string()))
    return inverse, values


def _group(table: pa.Table, rules, *, columns, fill_only: bool, default: str, file: str):
    """:func:`group_table` without the summary: (table with a dictionary ``channel``, touch mask, name map)."""
    columns = columns or {}
    name = lambda c: columns.get(c, c)  # noqa: E731
    have = [c for c in GROUP_COLUMNS if name(c) in table.column_names]
    if name("event") not in table.column_names or not have:
        raise InputError(Problem("column_missing", "channel grouping needs the 'event' column and at least one of "
                                 "'source', 'medium', 'campaign'", f"map them with {option('column', 'source=YOUR_COLUMN')}",
                                 file=file, column=name("event") if name("event") not in table.column_names
                                 else name("source")))
    if isinstance(rules, pd.DataFrame):
        rules = rules_from_frame(rules)
    n = table.num_rows
    # the rules run once per distinct (source, medium, campaign); every row takes its combination's channel
    inverse, values = _combinations([table[name(c)] for c in have], n)
    given = dict(zip(have, values))
    per_combo = pc.dictionary_encode(assign_channels(given.get("source"), given.get("medium"), given.get("campaign"),
                                                     rules=rules, default=default))
    derived_codes = per_combo.indices.to_numpy(zero_copy_only=False).astype(np.int64)[inverse]
    derived_vocab = per_combo.dictionary.cast(pa.string())
    event_codes, event_vocab = encode_sorted(table[name("event")])
    touch = np.flatnonzero(pc.fill_null(pc.equal(event_vocab.cast(pa.string()), TOUCH_EVENT), False)
                           .to_numpy(zero_copy_only=False))
    is_touch = event_codes == (touch[0] if len(touch) else -2)
    if name("channel") in table.column_names:
        old_codes, old_vocab = encode_sorted(table[name("channel")])
        old_vocab = old_vocab.cast(pa.string())
    else:
        old_codes, old_vocab = np.full(n, -1, np.int64), pa.array([], pa.string())
    take = is_touch
    if fill_only:  # a touch keeps its non-empty channel
        blank = pc.equal(pc.utf8_trim_whitespace(old_vocab), "").to_numpy(zero_copy_only=False)
        take = is_touch & np.append(blank, True)[old_codes]
    remap, vocab = encode_sorted(pa.concat_arrays([derived_vocab, old_vocab]))
    from_old = np.append(remap[len(derived_vocab):], -1)[old_codes]
    codes = np.where(take, remap[:len(derived_vocab)][derived_codes], from_old)
    codes, vocab = compact_codes(codes, vocab)
    channel = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=codes < 0), vocab.cast(pa.string()))
    if name("channel") in table.column_names:
        out = table.set_column(table.column_names.index(name("channel")), name("channel"), channel)
    else:
        out = table.append_column(name("channel"), channel)
    return out, is_touch, name


def group_table(table: pa.Table, rules=GA4_RULES, *, columns=None, fill_only: bool = False,
                default: str = UNASSIGNED, file: str = "<table>") -> tuple[pa.Table, pd.DataFrame]:
    """Derive the ``channel`` column of an event table's touch rows from source / medium / campaign.

    Parameters
    ----------
    table : pyarrow.Table
        An event log with (mapped) ``event`` and at least one of ``source``, ``medium``, ``campaign``.
    rules : sequence of Rule or a rules frame
    columns : dict, optional
        Canonical → actual column names (``{"source": "utm_source"}``).
    fill_only : bool
        Keep a touch's existing non-empty channel and derive only the missing ones.

    Returns
    -------
    table : pyarrow.Table
        The same table with ``channel`` (the mapped name) set on touch rows; other rows keep theirs.
    summary : pandas.DataFrame
        ``channel, source, medium, touches``: how many touches each (source, medium) pair sent to each channel,
        most first — the place to spot what fell into ``Unassigned``.
    """
    out, is_touch, name = _group(table, rules, columns=columns, fill_only=fill_only, default=default, file=file)
    channel = out[name("channel")].cast(pa.string())
    out = out.set_column(out.column_names.index(name("channel")), name("channel"), channel)
    n = table.num_rows

    def col(c):
        return table[name(c)].cast(pa.string()) if name(c) in table.column_names else None

    is_touch = pa.array(is_touch)
    touches = pa.table({"channel": channel, "source": col("source") or pa.nulls(n, pa.string()),
                        "medium": col("medium") or pa.nulls(n, pa.string())}).filter(is_touch)
    summary = (touches.group_by(["channel", "source", "medium"], use_threads=False)
               .aggregate([("channel", "count")]).rename_columns(["channel", "source", "medium", "touches"])
               .to_pandas().sort_values(["touches", "channel", "source", "medium"],
                                        ascending=[False, True, True, True], kind="stable", ignore_index=True))
    return out, summary


@dataclass(frozen=True)
class ChannelGrouping:
    """Channel grouping applied while an event log is read (``attribution run --channel-grouping``).

    The same rules and semantics as :func:`group_table` (``attribution channels``), applied to every file's
    table as read, before validation: touches get the channel of the first matching rule (``default``,
    ``Unassigned``, where none matches); with ``fill_only`` a touch keeps its non-empty channel. The log then
    needs no ``channel`` column, but needs the columns the rules match on. Rows are grouped one by one, so any
    partition of the log (out of core, Dask) gives the same channels.

    Attributes
    ----------
    rules : tuple of Rule
    label : str
        How the user named the rules (``ga4`` or the CSV path), for messages.
    fill_only : bool
    default : str
    """

    rules: tuple
    label: str = "ga4"
    fill_only: bool = False
    default: str = UNASSIGNED

    @classmethod
    def of(cls, spec, *, fill_only: bool = False, default: str = UNASSIGNED) -> "ChannelGrouping | None":
        """A grouping from ``"ga4"``, the path of a rules CSV, a rules frame or a sequence of :class:`Rule`
        (None: no grouping). Raises :class:`ParameterError` / :class:`InputError` before any log is read."""
        if isinstance(spec, ChannelGrouping):
            return replace(spec, fill_only=True) if fill_only and not spec.fill_only else spec
        if spec is None:
            if fill_only:
                raise ParameterError(f"The {option('fill-only', quoted=True)} option keeps channels that {option('channel-grouping')} would "
                                     f"replace; it needs {option('channel-grouping', 'ga4|RULES.csv', quoted=True)}.")
            return None
        if not isinstance(default, str) or not default.strip():
            raise ParameterError(f"The default channel of a channel grouping must be a non-empty name. "
                                 f"Got {default!r} instead.")
        if isinstance(spec, (str, os.PathLike)):
            text = os.fspath(spec)
            rules, label = load_rules(text), text
        elif isinstance(spec, pd.DataFrame):
            rules, label = rules_from_frame(spec), "<rules frame>"
        else:
            rules, label = tuple(spec), "<rules>"
            if not rules or not all(isinstance(r, Rule) for r in rules):
                raise ParameterError("The 'channel_grouping' option must be 'ga4', the path of a CSV of rules, "
                                     f"a rules frame or a sequence of Rule. Got {spec!r} instead.")
        return cls(tuple(rules), label, bool(fill_only), default.strip())

    def key_columns(self) -> tuple[str, ...]:
        """Columns the log must have at least one of: source / medium where the rules match on them (GA4 does),
        else the columns the rules match on (campaign-only rules need campaign)."""
        used = [c for i, c in enumerate(GROUP_COLUMNS)
                if any(triple[i] is not None for rule in self.rules for triple in rule.any_of)]
        return tuple(c for c in used if c != "campaign") or tuple(used) or GROUP_COLUMNS

    def plan(self, sources, *, columns=None, csv=None):
        """:func:`attribution.io.events.plan_read` for a grouped log: ``channel`` is optional, the grouping's
        columns are checked instead (schemas only, every file, every problem at once)."""
        mapping = parse_column_map(columns)
        check_column_map(mapping, CANONICAL)
        csv = csv or CsvOptions()
        files = resolve_sources(sources)
        required = tuple(c for c in REQUIRED if c != "channel")
        need = self.key_columns()
        problems: list[Problem] = []
        planned, schemas = [], []
        for path in files:
            names = read_schema_names(path, csv)
            planned.append((path, plan_columns(path, names, CANONICAL, required, mapping, problems, csv=csv)))
            schemas.append((path, names, ", ".join(map(str, names[:12])) + (", ..." if len(names) > 12 else "")))
        # a mapped column in no file is a typo; a file without it (other files have it) reads it as empty
        mistyped = absent_mappings(mapping, [(path, names) for path, names, _ in schemas], skip=required)
        problems.extend(mistyped)
        for path, names, found in schemas if not mistyped else ():
            if not any(mapping.get(c, c) in names for c in need):
                wanted = " or ".join(f"'{mapping.get(c, c)}'" for c in need)
                problems.append(Problem(
                    "column_missing", f"{option('channel-grouping', self.label)} derives each touch's channel from "
                    f"{wanted}, and the file has none of them (columns found: {found})",
                    "map your columns with " + " ".join(option('column', f'{c}=YOUR_{c.upper()}') for c in need)
                    + f", or leave out {option('channel-grouping')} if the log has a channel column",
                    file=path, column=mapping.get(need[0], need[0])))
        if problems:
            raise InputError(problems)
        return ReadPlan(planned, mapping, csv)

    def apply(self, pieces, mapping=None) -> list:
        """``[(file, table as read), ...]`` with the channel of every touch derived (a dictionary column)."""
        return [(path, _group(table, self.rules, columns=mapping or {}, fill_only=self.fill_only,
                              default=self.default, file=path)[0]) for path, table in pieces]

    def read(self, sources, *, columns=None, on_bad_rows: str = "error", csv=None, epoch_unit=None,
             valid_years=None, identity=None):
        """:func:`attribution.io.reader.read_events` of a grouped log: plan, read, group, validate (``identity``:
        an :class:`~attribution.io.identity.Identity` applied before validation)."""
        time_rule = TimeRule.of(epoch_unit, valid_years)  # option errors before any reading
        plan = self.plan(sources, columns=columns, csv=csv)
        if identity is not None:
            identity.extend_plan(plan, lambda path: read_schema_names(path, plan.csv))
        tables = self.apply([(path, plan.read(path, wanted)) for path, wanted in plan.files], plan.mapping)
        return validate_planned(tables, plan, identity, on_bad_rows=on_bad_rows, time_rule=time_rule)
