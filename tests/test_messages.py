"""Messages name an option the way the caller spells it: ``--lookback-days 30`` on the command line,
``lookback_days=30`` from Python (attribution.exceptions.option)."""

import pandas as pd
import pytest

import attribution
from attribution.cli.app import main
from attribution.exceptions import InputError, ParameterError, command_line, option

LOG = pd.DataFrame({"user_id": ["a", "a"], "timestamp": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
                    "event": ["touch", "conversion"], "channel": ["email", None], "revenue": [None, 5.0]})


def test_option_spelling_follows_the_front_end():
    assert option("lookback-days") == "lookback_days"
    assert option("ci", quoted=True) == "'ci'"
    assert option("on-bad-rows", "skip") == "on_bad_rows='skip'"
    assert option("ci", "0.9") == "ci=0.9"  # a number is shown as the number it is
    with command_line():
        assert option("lookback-days") == "--lookback-days"
        assert option("ci", quoted=True) == "'--ci'"
        assert option("on-bad-rows", "skip") == "--on-bad-rows skip"
    assert option("ci", quoted=True) == "'ci'"  # the block restores the library's spelling


def test_python_errors_name_keywords():
    with pytest.raises(ParameterError) as info:
        attribution.run(LOG, model="linear", ci=95)
    assert "'ci' option" in str(info.value) and "--" not in str(info.value)
    with pytest.raises(ParameterError) as info:
        attribution.run(LOG, model="linear", lookback_days="soon")
    assert "'lookback_days' option" in str(info.value) and "--" not in str(info.value)
    with pytest.raises(InputError) as info:
        attribution.run(LOG.drop(columns="user_id"), model="linear")
    assert "column='user_id=YOUR_COLUMN'" in str(info.value)


def test_command_line_errors_name_flags(tmp_path, capsys):
    path = tmp_path / "log.csv"
    LOG.to_csv(path, index=False)
    with pytest.raises(SystemExit) as code:
        main(["run", str(path), "-m", "linear", "--ci", "95", "-o", str(tmp_path / "out.csv")])
    assert code.value.code == 2 and "'--ci' option" in capsys.readouterr().err
    LOG.drop(columns="user_id").to_csv(path, index=False)
    with pytest.raises(SystemExit) as code:
        main(["run", str(path), "-m", "linear", "-o", str(tmp_path / "out.csv")])
    assert code.value.code == 2 and "--column user_id=YOUR_COLUMN" in capsys.readouterr().err
    assert option("ci") == "ci"  # main() leaves the library's spelling as it was
