"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from testkit import events_frame


@pytest.fixture
def tmp_events(tmp_path):
    """Write rows as a Parquet event log and return its path."""

    def write(rows, name="events.parquet"):
        path = tmp_path / name
        frame = events_frame(rows)
        if name.endswith(".csv"):
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path

    return write
