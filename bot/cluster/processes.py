"""Starting and stopping server processes: shared by the local cluster and the test stacks."""
from __future__ import annotations

import socket
import subprocess
import time
from typing import Iterable

import requests


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def terminate(procs: Iterable[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM to all, then wait for each; SIGKILL what does not stop within ``timeout``."""
    procs = [p for p in procs if p.poll() is None]
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL: the process gets no chance to finish what it is doing."""
    proc.kill()
    proc.wait(timeout=20)
