"""One cluster for the fault tests: PostgreSQL, Redis, nginx, 2 Rasa + 2 action servers, web app."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from bot.cluster.cluster import Cluster, Layout


@pytest.fixture(scope="session")
def cluster(trained_model: Path) -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="niangjia-cluster-"))
    root.chmod(0o755)  # PostgreSQL runs as its own user when the tests run as root
    cluster = Cluster(root, Layout.free(), durable=False,
                      extra_env={"RATE_LIMIT_BURST": "20", "RATE_LIMIT_PER_MINUTE": "60"})
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def healthy(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster with every process up before and after the test (a fault test restarts what it broke)."""
    _revive(cluster)
    yield cluster
    _revive(cluster)


def _revive(cluster: Cluster) -> None:
    if not cluster.redis.answers():
        cluster.redis.start()
    for name in cluster.names():
        proc = cluster.procs.get(name)
        if proc is None or proc.poll() is not None:
            cluster.start_process(name)
