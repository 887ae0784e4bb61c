"""URLs on the command line: a missing database driver names the package to install, a URL where a file is
expected is refused, and no part of a password is ever printed, whatever the URL looks like."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.exceptions import ParameterError
from attribution.io.sql import _scrub, check_sql_target, safe_url
from kpikit import write_inputs

runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("url, shown", [
    ("postgresql://u:se@cret@host/db", "postgresql://***@host/db"),  # unencoded '@': mask up to the LAST '@'
    ("postgresql://u:p%40ss@host:5432/db", "postgresql://***@host:5432/db"),
    ("postgresql:/u:pw@host/db", "postgresql:/***@host/db"),  # as pathlib leaves a URL typed as a file
    ("postgresql://host/db?user=u&password=pw&sslmode=require",
     "postgresql://host/db?user=u&password=***&sslmode=require"),
    ("postgresql://u@/db?host=/tmp/sock", "postgresql://***@/db?host=/tmp/sock"),
    ("sqlite:///data/bi.db", "sqlite:///data/bi.db"),
])
def test_safe_url_masks_every_credential(url, shown):
    assert safe_url(url) == shown


@settings(max_examples=200, deadline=None)
@given(user=st.text(st.characters(blacklist_characters="/?#", blacklist_categories=("Cs",)), max_size=12),
       password=st.text(st.characters(blacklist_characters="/?#", blacklist_categories=("Cs",)), min_size=1,
                        max_size=20))
def test_safe_url_never_shows_any_part_of_a_password(user, password):
    url = f"postgresql://{user}:{password}@db.example.com:5432/marketing"
    assert safe_url(url) == "postgresql://***@db.example.com:5432/marketing"


def test_driver_messages_are_scrubbed_of_password_pieces():
    # what psycopg says for this URL: it split at the first '@' and took the rest of the password for a host
    said = "failed to resolve host 'cret@host': [Errno -2] Name or service not known"
    assert "cret" not in _scrub(said, "postgresql://u:se@cret@host/db")


@pytest.mark.parametrize("url, package", [
    ("mysql://u:pw@h/db", "mysqlclient"),
    ("mysql+pymysql://u:pw@h/db", "PyMySQL"),
    ("mssql+pyodbc://u:pw@h/db", "pyodbc"),
    ("oracle+oracledb://u:pw@h/db", "oracledb"),
])
def test_a_missing_driver_names_the_package(url, package):
    import importlib.util

    module = {"mysqlclient": "MySQLdb", "PyMySQL": "pymysql"}.get(package, package)
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here")
    with pytest.raises(ParameterError, match=re.escape(f"pip install {package!r}")) as err:
        check_sql_target(url, "roi")
    assert "pw" not in str(err.value)


@pytest.mark.parametrize("secret_url", [
    "postgresql://analyst:se@cret@db.example.com/marketing",
    "mysql://analyst:se@cret@db.example.com/marketing",
])
@pytest.mark.parametrize("where", ["output", "detail", "spend", "events", "channel_grouping"])
def test_urls_on_the_command_line_exit_2_without_credentials(tmp_path, secret_url, where):
    events, spend = write_inputs(tmp_path)
    args = {
        "output": ["run", events, "-o", secret_url, "--table", "roi"],
        "detail": ["run", events, "--detail", secret_url],
        "spend": ["run", events, "--spend", secret_url],
        "events": ["run", secret_url],
        "channel_grouping": ["run", events, "--channel-grouping", secret_url],
    }[where]
    res = cli(*args)
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: ") and "Traceback" not in res.output
    for piece in ("se@cret", "cret", ":se"):
        assert piece not in res.output, res.output
    if where in ("spend", "events", "channel_grouping"):
        assert "expects a file" in res.output


@pytest.mark.parametrize("command", [["funnel"], ["transitions"], ["channels", "-o", "x.csv"]])
def test_every_command_refuses_a_url_for_its_events(command):
    res = cli(command[0], "postgresql://u:pw@host/db", *command[1:])
    assert res.exit_code == 2, res.output
    assert "expects a file" in res.output and ":pw" not in res.output
