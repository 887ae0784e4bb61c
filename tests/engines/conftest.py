"""Fixtures of the engine tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def client():
    """One real 2-worker ``distributed.LocalCluster`` for every Dask test of the session (starting one takes
    seconds); modules using it skip beforehand when the dask extra is missing."""
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from attribution.engines.dask_engine import connect

    client, cluster = connect(None, n_workers=2)
    yield client
    client.close()
    cluster.close()
