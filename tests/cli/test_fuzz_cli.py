"""Fuzzing ``attribution run`` with messy event logs (hypothesis), through the console entry point in-process.

Each example writes one log -- CSV (UTF-8, UTF-8 with BOM, UTF-16, latin-1; ``,`` ``;`` or tab; decimal commas;
null tokens) or Parquet (string, integer, unsigned, float, timestamp, date, null and dictionary columns) -- with
odd values anywhere: nulls, epoch numbers in every unit, years far outside the plausible window, ISO text with
offsets, garbage, huge and non-finite revenue, reserved, control-character, long, emoji and blank channel names,
duplicated and missing headers, empty and header-only files. The generator knows which conversion rows are
valid under the README's rules ("Bad input"), and the run must then either

- exit 0 with every model crediting exactly those conversions (and the summary counting them), or
- exit 2 with an ``error:`` message on stderr, no traceback, and the output folder as it was before;

never exit 1, never a partial or temporary file. ``main()`` is called with the arguments, so exceptions take the
real path to exit statuses (``attribution.cli.base._guarded``); an exception escaping it fails the test.

``ATTRIBUTION_FUZZ_EXAMPLES`` raises the example count for a longer local run (default: a CI budget).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from unittest import mock

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.cli.app import main

EXAMPLES = int(os.environ.get("ATTRIBUTION_FUZZ_EXAMPLES", "40"))
BASE = datetime(2026, 1, 5, tzinfo=timezone.utc)
UNITS = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
MODELS = ["linear", "markov", "shapley:game=rate", "logistic", "time_decay"]


@dataclass
class Case:
    """One generated log and what a correct run does with it."""

    fmt: str  # csv | parquet
    columns: dict  # name -> list of python values (None = null)
    kinds: dict = field(default_factory=dict)  # parquet column types
    valid_conversions: int = 0
    bad_rows: bool = False  # some row breaks a row rule (exit 2 unless skipped)
    refused: bool = False  # the whole file must be refused (exit 2 even with skip)
    unsure: bool = False  # the generator cannot tell (exit 0 or 2 both fine; totals still checked)
    args: list = field(default_factory=list)
    models: list = field(default_factory=list)
    csv: dict = field(default_factory=dict)  # delimiter, encoding, decimal, header edits


# ---------------------------------------------------------------- values with their validity


def epoch(seconds: float, unit: str, as_float: bool):
    value = int(seconds) * UNITS[unit]
    return float(value) if as_float else value


@st.composite
def timestamps(draw, style: str, unit: str, as_float: bool, n: int):
    """``n`` timestamp values in a style, each with its validity (within 1990:2100)."""
    values, valid = [], []
    for _ in range(n):
        day = draw(st.integers(0, 40))
        seconds = (BASE - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() + day * 86400 + \
            draw(st.integers(0, 86399))
        kind = draw(st.sampled_from(["ok", "ok", "ok", "ok", "null", "far", "garbage"] if style == "text"
                                    else ["ok", "ok", "ok", "ok", "null", "far"]))
        if kind == "null":
            values.append(None)
            valid.append(False)
            continue
        if kind == "far":
            year = draw(st.sampled_from([1600, 1899, 2300, 9999]))
        when = datetime.fromtimestamp(seconds, timezone.utc)
        if style == "text":
            form = draw(st.sampled_from(["date", "iso", "offset", "epoch"]))
            if kind == "garbage":
                values.append(draw(st.sampled_from(["yesterday", "2026-13-45", "12/31/2026 25:00", "--", "0x1F",
                                                    "1e400", "2026-01-01T00:00:00+99:00"])))
                valid.append(False)
                continue
            if kind == "far":
                when = when.replace(year=year)
            if form == "epoch" and kind != "far":
                values.append(str(epoch(seconds, unit, as_float)))
            elif form == "date":
                values.append(when.strftime("%Y-%m-%d"))
            elif form == "iso":
                values.append(when.strftime("%Y-%m-%dT%H:%M:%SZ"))
            else:
                values.append(when.strftime("%Y-%m-%dT%H:%M:%S") + draw(st.sampled_from(["+02:00", "-05:30",
                                                                                          "+00:00"])))
            valid.append(kind == "ok")
        elif style == "epoch":
            if kind == "far":  # same unit, a year far outside the window (never in another unit's range)
                far = (datetime(min(year, 2250), 6, 1, tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc))
                values.append(epoch(far.total_seconds(), unit, as_float) if year > 1970 else None)
            else:
                values.append(epoch(seconds, unit, as_float))
            valid.append(kind == "ok")
        else:  # parquet timestamp / date columns
            if kind == "far":
                when = when.replace(year=year)
            values.append(when.date() if style == "date" else when)
            valid.append(kind == "ok")
    return values, valid


CHANNELS_OK = ["Search", "Social", "email", " Display ", "(none)", ">", "a > b", "x" * 300, "Référencement",
               "Ünïcødé", "🚀 launch", "1", "TRUE", "-0"]
CHANNELS_BAD = [None, "", "   ", "tab\there", "bell\x07", "unit\x1fsep", "line\nbreak", "del\x7f"]
REVENUE = [(None, True), ("0", True), ("12.5", True), ("-0", True), ("1e15", True), ("nan", True), ("", True),
           ("NA", True), ("1e308", False), ("inf", False), ("-3", False), ("99999999999999999999", False),
           ("abc", False), ("-inf", False)]


@st.composite
def cases(draw):
    fmt = draw(st.sampled_from(["csv", "parquet"]))
    n = draw(st.integers(0, 14))
    ts_style = draw(st.sampled_from(["text", "epoch"] + (["timestamp", "date"] if fmt == "parquet" else [])))
    unit = draw(st.sampled_from(list(UNITS)))
    as_float = draw(st.booleans()) and unit in ("s", "ms")  # float64 holds these exactly
    ts, ts_valid = draw(timestamps(ts_style, unit, as_float, n))
    case = Case(fmt=fmt, columns={})
    if draw(st.booleans()) and ts_style in ("text", "epoch"):
        case.args += ["--epoch-unit", unit]

    user_kind = draw(st.sampled_from(["str", "int", "uint64"] if fmt == "parquet" else ["str", "int", "uint64"]))
    pool = {"str": ["u1", "u2", "u3", "Ü4", " "], "int": [1, 2, 3, -4, 2**62],
            "uint64": [2**64 - 1, 2**63 + 1, 1, 2**63]}[user_kind]
    users = [draw(st.sampled_from(pool + [None])) for _ in range(n)]
    events = [draw(st.sampled_from(["touch", "touch", "conversion", "conversion", "page_view", None]))
              for _ in range(n)]
    channels, channel_ok = [], []
    for _ in range(n):
        if draw(st.integers(0, 5)) == 0:
            channels.append(draw(st.sampled_from(CHANNELS_BAD)))
            channel_ok.append(False)
        else:
            channels.append(draw(st.sampled_from(CHANNELS_OK)))
            channel_ok.append(True)
    revenue = [draw(st.sampled_from(REVENUE)) for _ in range(n)]

    # validity per row (README "Bad input"); CSV null tokens are nulls
    case.columns = {"user_id": users, "timestamp": ts, "event": events, "channel": channels,
                    "revenue": [r[0] for r in revenue]}
    case.valid_conversions, case.bad_rows = _recount(case, ts_valid, channel_ok)

    # extra columns of every type, ignored by the reader
    for extra in draw(st.lists(st.sampled_from(["n_int", "n_float", "n_bool", "n_null", "n_date", "n_str"]),
                               max_size=3, unique=True)):
        case.columns[extra] = [{"n_int": i, "n_float": i / 3, "n_bool": i % 2 == 0, "n_null": None,
                                "n_date": "2026-01-01", "n_str": "x"}[extra] for i in range(n)]
    if fmt == "parquet":
        case.kinds = {"user_id": user_kind, "ts": ts_style, "as_float": as_float,
                      "revenue": draw(st.sampled_from(["text", "float"])),
                      "dictionary": draw(st.booleans())}
        if case.kinds["revenue"] == "float":  # text that is not a number cannot be stored as float: null it
            case.columns["revenue"] = [_float_or_none(v) for v in case.columns["revenue"]]
            case.valid_conversions, case.bad_rows = _recount(case, ts_valid, channel_ok)
    else:
        delimiter = draw(st.sampled_from([",", ";", "\t"]))
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
        decimal = draw(st.sampled_from([".", ","]))
        case.csv = {"delimiter": delimiter, "encoding": encoding, "decimal": decimal,
                    "header": draw(st.sampled_from(["ok", "ok", "ok", "ok", "ok", "dup", "missing", "none"]))}
        if draw(st.booleans()):
            case.args += ["--delimiter", {"\t": "tab"}.get(delimiter, delimiter)]
        if encoding == "latin-1":
            text = "".join(str(v) for col in case.columns.values() for v in col if v is not None)
            if not all(ord(c) < 256 for c in text):
                case.csv["encoding"] = encoding = "utf-8"
            elif draw(st.booleans()):
                case.args += ["--encoding", "latin-1"]
            elif any(ord(c) > 127 for c in text):
                case.refused = True  # not UTF-8 text: the file is refused (encoding)
        if decimal == ",":
            if draw(st.booleans()):
                case.args += ["--decimal", ","]
            elif any(isinstance(v, str) and "." in v for v in case.columns["revenue"]):
                case.unsure = True  # decimal commas without --decimal: refused or bad rows
        if case.csv["header"] in ("dup", "missing"):
            case.refused = True
        if case.csv["header"] == "none" and n:
            case.refused = True  # the first data row is taken for the header: columns missing
    if draw(st.booleans()):
        case.args += ["--on-bad-rows", "skip"]
    if draw(st.integers(0, 3)) == 0:
        case.args += ["--period", "month"]
    if draw(st.integers(0, 3)) == 0:
        case.args += ["--memory-limit", "1MB"]
    case.models = draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=2, unique=True))
    return case


def _float_or_none(v):
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        return None


def _revenue_ok(value, fmt: str) -> bool:
    """A revenue value's validity: null or a finite number in [0, 1e15]; CSV null tokens are null, Parquet text
    is a number or empty."""
    if value is None or value != value:
        return True
    if isinstance(value, float):
        return 0 <= value <= 1e15
    text = value.strip()
    if text == "" or fmt == "csv" and text in ("NA", "nan"):
        return True
    try:
        number = float(text)
    except ValueError:
        return False
    return number == number and 0 <= number <= 1e15


def _recount(case, ts_valid, channel_ok):
    """(valid conversion rows, whether any row breaks a row rule)."""
    cols = case.columns
    bad, valid = False, 0
    for i, event in enumerate(cols["event"]):
        ok = ts_valid[i] and cols["user_id"][i] is not None and event is not None \
            and _revenue_ok(cols["revenue"][i], case.fmt)
        if event == "touch":
            ok = ok and channel_ok[i]
        bad |= not ok
        valid += ok and event == "conversion"
    return valid, bad


# ---------------------------------------------------------------- writing the files


def write_parquet(case: Case, path):
    k = case.kinds
    cols = dict(case.columns)
    arrays = {}
    user_type = {"str": pa.string(), "int": pa.int64(), "uint64": pa.uint64()}[k["user_id"]]
    arrays["user_id"] = pa.array(cols.pop("user_id"), user_type)
    ts = cols.pop("timestamp")
    if k["ts"] == "text":
        arrays["timestamp"] = pa.array(ts, pa.string())
    elif k["ts"] == "epoch":
        arrays["timestamp"] = pa.array(ts, pa.float64() if k["as_float"] else pa.int64())
    elif k["ts"] == "date":
        arrays["timestamp"] = pa.array(ts, pa.date32())
    else:
        arrays["timestamp"] = pa.array(ts, pa.timestamp("us", tz="UTC"))
    arrays["revenue"] = pa.array(cols.pop("revenue"), pa.string() if k["revenue"] == "text" else pa.float64())
    for name, values in cols.items():
        arrays[name] = pa.array(values) if any(v is not None for v in values) else pa.nulls(len(values))
    if k["dictionary"]:
        for name in ("event", "channel", "user_id"):
            if pa.types.is_string(arrays[name].type):
                arrays[name] = arrays[name].dictionary_encode()
    pq.write_table(pa.table(arrays), path)


def write_csv(case: Case, path):
    c = case.csv
    frame = pd.DataFrame(case.columns)
    if c["decimal"] == ",":
        frame["revenue"] = [v.replace(".", ",") if isinstance(v, str) else v for v in frame["revenue"]]
    header = list(frame.columns)
    if c["header"] == "dup":
        header[3] = "user_id"
    elif c["header"] == "missing":
        frame = frame.drop(columns=["channel"])
        header = list(frame.columns)
    text = frame.to_csv(index=False, header=c["header"] != "none", sep=c["delimiter"], lineterminator="\n")
    if c["header"] == "dup":
        text = c["delimiter"].join(header) + "\n" + text.split("\n", 1)[1]
    with open(path, "w", encoding=c["encoding"], newline="") as fh:
        fh.write(text)


# ---------------------------------------------------------------- the property


def run_cli(args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def check(case: Case, tmp_path):
    import shutil

    work = tmp_path / "work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "out").mkdir(parents=True)
    log = work / f"events.{case.fmt}"
    (write_parquet if case.fmt == "parquet" else write_csv)(case, log)
    out_dir = work / "out"
    (out_dir / "keep.txt").write_text("previous")
    target = out_dir / "result.csv"
    target.write_text("old,output\n")
    args = ["run", log, "-o", target, *[a for m in case.models for a in ("-m", m)], *case.args]
    with contextlib.ExitStack() as stack:
        if "--memory-limit" in case.args:  # out of core in 3 user buckets, however small the log
            stack.enter_context(mock.patch("attribution.engines.plan_buckets", lambda rows, limit: 3))
        code, out, err = run_cli(args)
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err + out and "internal error" not in err, err
    skip = "--on-bad-rows" in case.args
    if code == 2:
        assert "error:" in err, err
        assert sorted(p.name for p in out_dir.iterdir()) == ["keep.txt", "result.csv"], list(out_dir.iterdir())
        assert target.read_text() == "old,output\n"
        if not case.unsure and not case.refused:
            assert case.bad_rows and not skip or case.valid_conversions == 0, (err, case.valid_conversions)
        return
    assert not case.refused, ("a file that must be refused was read", err)
    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.txt", "result.csv"]
    if not skip and not case.unsure:
        assert not case.bad_rows, ("bad rows were not reported", err)
    table = pd.read_csv(target)
    credited = table.groupby("model")["conversions"].sum() if len(table) else pd.Series(dtype=float)
    summary = re.search(r"([\d,.]+) conversions", err)
    counted = float(summary.group(1).replace(",", "")) if summary else 0.0
    # credit shares are floats: each model's total is a sum of a few shares of whole conversions (1e-9 is far
    # above the rounding of such sums and far below one conversion)
    for model, total in credited.items():
        assert abs(total - counted) <= 1e-9 * max(1.0, counted), (model, total, counted, err)
    if not case.unsure:
        assert counted == case.valid_conversions, (counted, case.valid_conversions, err)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(case=cases())
def test_messy_logs_exit_0_with_the_valid_conversions_or_2_with_a_message(case, tmp_path):
    check(case, tmp_path)
