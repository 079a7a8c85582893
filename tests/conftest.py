"""Shared fixtures: paths, the trained model, and servers started for real."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")  # never phone home from tests


def free_port() -> int:
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


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model matching the current data (trained once per data fingerprint)."""
    from bot.config import load_settings
    from bot.training import ensure_model

    return ensure_model(load_settings())


class Servers:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.rasa_url = f"http://127.0.0.1:{env['RASA_PORT']}"
        self.web_url = f"http://127.0.0.1:{env['WEB_PORT']}"
        self.token = env["RASA_TOKEN"]


@pytest.fixture(scope="session")
def servers(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The Rasa server and the web app, started as `make run` starts them."""
    var_dir = tmp_path_factory.mktemp("var")
    env = dict(os.environ)
    env.update(
        NIANGJIA_VAR_DIR=str(var_dir),
        RASA_PORT=str(free_port()),
        WEB_PORT=str(free_port()),
        ACTIONS_PORT=str(free_port()),
        RASA_TOKEN="test-token",
        WEB_WORKERS="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env["RASA_PUBLIC_URL"] = f"http://127.0.0.1:{env['RASA_PORT']}"
    logs = var_dir / "logs"
    logs.mkdir()
    procs, log_files = [], []
    for name in ("rasa", "web"):
        log_files.append(open(logs / f"{name}.log", "wb"))
        procs.append(subprocess.Popen([str(BIN / "niangjia"), "run", name], cwd=ROOT, env=env,
                                      stdout=log_files[-1], stderr=subprocess.STDOUT))
    running = Servers(env)
    try:
        wait_for(f"{running.web_url}/healthz", 60, procs[1])
        wait_for(f"{running.rasa_url}/status?token=test-token", 180, procs[0])
        yield running
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log_file in log_files:
            log_file.close()
