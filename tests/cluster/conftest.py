"""One cluster for the fault tests: PostgreSQL, Redis, nginx, 2 Rasa + 2 action servers, web app."""
from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests

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
    _serving(cluster)


def _serving(cluster: Cluster, in_a_row: int = 6, timeout: float = 90) -> None:
    """Wait until messages through nginx get the bot's answer ``in_a_row`` times running.

    A process that answers its own health check may still not serve through nginx: nginx
    takes a server that failed out of rotation for ``fail_timeout``, and a CI run once saw
    a test's first messages answered 502 right after a Rasa server was restarted. A fault
    test starts from a cluster that serves, or fails here saying what nginx logged.
    """
    deadline, running, last = time.monotonic() + timeout, 0, None
    while running < in_a_row:
        if time.monotonic() > deadline:
            log = cluster.nginx.root / "error.log"
            tail = log.read_text(errors="replace").splitlines()[-20:] if log.exists() else []
            pytest.fail(f"the cluster does not serve through nginx (last: {last})\n" + "\n".join(tail))
        try:
            last = requests.post(f"{cluster.public_url}/webhooks/rest/webhook", headers=cluster.rest_auth,
                                 json={"sender": f"probe-{uuid.uuid4().hex}", "message": "你好"},
                                 timeout=30).status_code
        except requests.RequestException as error:
            last = type(error).__name__
        running = running + 1 if last == 200 else 0
        if last != 200:
            time.sleep(1)
