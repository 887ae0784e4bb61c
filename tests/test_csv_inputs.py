"""CSV files as spreadsheets export them (attribution.io.csvread): delimiter detection, decimal commas, encodings,
null tokens and duplicate headers, through the Python API; the command line is tested in tests/cli/test_cli_csv.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.io.csvread import CSV_NULLS, CsvOptions, detect_delimiter
from attribution.io.reader import read_events
from attribution.exceptions import InputError, ParameterError
from attribution.runner import run
from testkit import events_frame

ROWS = [("u1", 0, "touch", "Référencement"), ("u1", 1, "touch", "email"), ("u1", 2, "conversion", None, 12.5),
        ("u2", 0, "touch", "Réseaux sociaux"), ("u2", 3, "conversion", None, 1234.75),
        ("u3", 0, "touch", "email")]


def spreadsheet_csv(path, frame, *, sep=",", decimal=".", encoding="utf-8"):
    """Write ``frame`` as a spreadsheet would export it (pandas writes the decimal mark and the encoding)."""
    frame.to_csv(path, index=False, sep=sep, decimal=decimal, encoding=encoding)
    return str(path)


@pytest.mark.parametrize("text, expected", [
    ("a,b,c\n1,2,3\n", ","),
    ("a;b;c\n1,5;2;3\n", ";"),                   # decimal commas in a ';' file
    ("a\tb\n1;2\t3\n", "\t"),
    ('a,b\n"x;y;z",2\n', ","),                   # delimiters inside quotes do not count
    ("user_id\nu1\n", ","),                      # one column
    ("a;b;c\n1;2\n", ";"),                       # ragged: the header's widest split wins
])
def test_delimiter_detection_rule(text, expected):
    assert detect_delimiter(text) == expected


def test_delimiter_detection_ignores_a_record_cut_by_the_sample():
    # the sample ends inside the last record, which has fewer fields: it does not disqualify ';'
    assert detect_delimiter("a;b;c\n1;2;3\n4;5", truncated=True) == ";"


@pytest.mark.parametrize("bad", [{"delimiter": ";;"}, {"decimal": "x"}, {"encoding": "no-such-codec"}])
def test_bad_csv_options_are_parameter_errors(bad):
    with pytest.raises(ParameterError):
        CsvOptions.of(**bad)


def test_option_spellings():
    assert CsvOptions.of("tab").delimiter == "\t" and CsvOptions.of("auto").delimiter is None
    assert CsvOptions.of(encoding="LATIN1").encoding == "iso8859-1"


@pytest.mark.parametrize("sep, decimal, encoding, kwargs", [
    (";", ",", "utf-8", {"decimal": ","}),
    ("\t", ".", "utf-8", {}),
    (";", ",", "cp1252", {"decimal": ",", "encoding": "cp1252"}),
    (",", ".", "latin-1", {"encoding": "latin-1"}),
    (",", ".", "utf-8-sig", {}),                 # UTF-8 byte-order mark: skipped
    (";", ",", "utf-16", {"decimal": ","}),      # UTF-16 with its byte-order mark: detected
    (";", ",", "utf-16", {"decimal": ",", "delimiter": ";", "encoding": "latin-1"}),  # the BOM wins
])
def test_read_events_equals_parquet(tmp_path, sep, decimal, encoding, kwargs):
    frame = events_frame(ROWS)
    frame.to_parquet(tmp_path / "ref.parquet", index=False)
    ref = read_events(str(tmp_path / "ref.parquet")).table
    got = read_events(spreadsheet_csv(tmp_path / "x.csv", frame, sep=sep, decimal=decimal, encoding=encoding),
                      **kwargs).table
    for name in ("user_id", "timestamp", "event", "channel", "revenue"):
        assert got[name].to_pylist() == ref[name].to_pylist(), name


def test_run_api_reads_the_spend_table_with_the_same_options(tmp_path):
    frame = events_frame(ROWS)
    spend = pd.DataFrame({"channel": ["Référencement", "email"], "spend": [10.25, 3.5]})
    frame.to_parquet(tmp_path / "ref.parquet", index=False)
    spend.to_csv(tmp_path / "spend.csv", index=False)
    ref = run(str(tmp_path / "ref.parquet"), models=["linear"], spend=str(tmp_path / "spend.csv")).table
    log = spreadsheet_csv(tmp_path / "fr.csv", frame, sep=";", decimal=",", encoding="cp1252")
    fr_spend = spreadsheet_csv(tmp_path / "fr_spend.csv", spend, sep=";", decimal=",", encoding="cp1252")
    got = run(log, models=["linear"], spend=fr_spend, decimal=",", encoding="cp1252").table
    pd.testing.assert_frame_equal(got, ref)
    assert got.set_index("channel").loc["Référencement", "spend"] == 10.25


def test_a_point_under_decimal_comma_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("user_id;timestamp;event;channel;revenue\nu1;2026-01-01;touch;a;\n"
                    "u1;2026-01-02;conversion;;12,5\nu2;2026-01-02;conversion;;1.234,5\n")
    with pytest.raises(InputError) as err:
        read_events(str(path), decimal=",")
    p = err.value.problems[0]
    assert (p.code, p.column, p.first_row, p.count) == ("decimal_mark", "revenue", 2, 1)


def test_comma_numbers_without_decimal_option_point_to_it(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("user_id;timestamp;event;channel;revenue\nu1;2026-01-01;touch;a;\nu1;2026-01-02;conversion;;12,5\n")
    with pytest.raises(InputError) as err:
        read_events(str(path))
    assert err.value.problems[0].code == "decimal_mark" and "decimal=','" in str(err.value)
    assert read_events(str(path), decimal=",").table["revenue"].to_pylist() == [0.0, 12.5]


def test_points_and_stray_commas_stay_bad_rows(tmp_path):
    # a '.'-decimal column with one "1,5": a bad row of the validation (skippable), not a decimal-mark refusal
    path = tmp_path / "x.csv"
    path.write_text("user_id,timestamp,event,channel,revenue\nu1,2026-01-01,conversion,,2.5\n"
                    'u2,2026-01-01,conversion,,"1,5"\n')
    ev = read_events(str(path), on_bad_rows="skip")
    assert ev.dropped == {"not_numeric": 1}


def test_undecodable_byte_names_file_column_row_and_option(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("user_id,timestamp,event,channel\nu1,2026-01-01,touch,email\nu1,2026-01-02,touch,Référencement\n"
                     "u2,2026-01-02,touch,Référencement\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        read_events(str(path))
    p = err.value.problems[0]
    assert (p.code, p.file, p.column, p.first_row, p.count) == ("encoding", str(path), "channel", 1, 2)
    assert "encoding" in p.fix and "binary" not in str(err.value)
    assert read_events(str(path), encoding="latin-1").table["channel"].to_pylist()[1] == "Référencement"


def test_duplicate_header_is_an_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("user_id,timestamp,event,channel,channel\nu1,2026-01-01,touch,a,b\n")
    with pytest.raises(InputError) as err:
        read_events(str(path))
    assert err.value.problems[0].code == "duplicate_column" and err.value.problems[0].column == "channel"


def test_wrong_delimiter_names_the_delimiter_option(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("user_id;timestamp;event;channel\nu1;2026-01-01;touch;a\n")
    with pytest.raises(InputError) as err:
        read_events(str(path), delimiter=",")
    assert err.value.codes == ["csv_delimiter"]
    assert "delimiter=';'" in str(err.value) and "column=" not in str(err.value)
    assert read_events(str(path)).num_rows == 1  # detected


# every token of the documented list, quoted or not, in channel and user_id
NULL_CELLS = [f'"{t}"' if i % 2 else t for i, t in enumerate(CSV_NULLS)]


def _null_token_logs(tmp_path):
    """The same log twice: Parquet with nulls, CSV with null tokens where the nulls are."""
    n = len(NULL_CELLS)
    users = [f"u{i % 4}" for i in range(3 * n)]
    events = ["touch"] * (3 * n)
    channels = [["email", "search", "social"][i % 3] for i in range(3 * n)]
    cells_user, cells_channel = list(users), list(channels)
    for k, token in enumerate(NULL_CELLS):
        cells_channel[3 * k] = token          # a touch without channel
        cells_user[3 * k + 1] = token         # a row without user
    for i in range(2, 3 * n, 6):
        events[i] = "conversion"
    ts = [f"2026-01-{1 + i // 8:02d}T{i % 8:02d}:00:00Z" for i in range(3 * n)]
    lines = ["user_id,timestamp,event,channel"] + [f"{u},{t},{e},{c}" for u, t, e, c in
                                                   zip(cells_user, ts, events, cells_channel)]
    (tmp_path / "tokens.csv").write_text("\n".join(lines) + "\n")
    frame = pd.DataFrame({"user_id": [None if i % 3 == 1 and i // 3 < n else u for i, u in enumerate(users)],
                          "timestamp": ts, "event": events,
                          "channel": [None if i % 3 == 0 and i // 3 < n else c for i, c in enumerate(channels)]})
    frame.to_parquet(tmp_path / "nulls.parquet", index=False)
    return str(tmp_path / "tokens.csv"), str(tmp_path / "nulls.parquet")


def test_csv_null_tokens_are_parquet_nulls(tmp_path):
    csv_path, pq_path = _null_token_logs(tmp_path)
    with pytest.raises(InputError) as a:
        read_events(csv_path)
    with pytest.raises(InputError) as b:
        read_events(pq_path)
    assert [(p.code, p.count, p.first_row) for p in a.value.problems] == \
        [(p.code, p.count, p.first_row) for p in b.value.problems]
    assert set(a.value.codes) == {"user_id_null", "channel_missing_on_touch"}
    x, y = read_events(csv_path, on_bad_rows="skip"), read_events(pq_path, on_bad_rows="skip")
    assert x.dropped == y.dropped and x.dropped["user_id_null"] == len(CSV_NULLS)
    ta, tb = x.table, y.table
    for name in ("user_id", "timestamp", "event", "channel"):
        assert ta[name].to_pylist() == tb[name].to_pylist()
    with pytest.warns(Warning):
        ra = run(csv_path, models=["linear", "markov"], on_bad_rows="skip").table
    with pytest.warns(Warning):
        rb = run(pq_path, models=["linear", "markov"], on_bad_rows="skip").table
    pd.testing.assert_frame_equal(ra, rb)
    assert np.isclose(ra[ra["model"] == "linear"]["conversions"].sum(), ra["conversions"].sum() / 2)


def test_path_table_and_compressed_csv_read_with_the_options(tmp_path):
    import gzip

    from attribution.journeys.paths import read_paths

    text = "path;conversions;nulls;revenue\nemail > search;1,5;2;10,25\nsocial;1;0;3\n"
    with gzip.open(tmp_path / "paths.csv.gz", "wt", encoding="cp1252") as fh:
        fh.write(text)
    j = read_paths(str(tmp_path / "paths.csv.gz"), csv=CsvOptions.of(decimal=",", encoding="cp1252")).journeys
    assert sorted(j.conversions.tolist()) == [1.0, 1.5] and sorted(j.revenue.tolist()) == [3.0, 10.25]
    (tmp_path / "log.tsv").write_text("user_id\ttimestamp\tevent\tchannel\nu1\t2026-01-01\ttouch\ta,b\n")
    assert read_events(str(tmp_path / "log.tsv")).table["channel"].to_pylist() == ["a,b"]
