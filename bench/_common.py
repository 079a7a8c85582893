"""Helpers shared by the benchmarks: data sets, topic mapping, servers, training."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

from bot.cluster.processes import free_port
from bot.config import load_settings
from bot.knowledge.generate import write_training_data
from bot.nlu_data import load_nlu_examples  # noqa: F401 (used by the benchmarks)
# The NLU contract's mapping of a parse to a topic (one place, shared with publish's evaluation).
from bot.teaching.evaluate import topic_of  # noqa: F401 (used by the benchmarks)
from bot.training import ensure_model

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
TOPIC_IDS = [t["id"] for t in yaml.safe_load(
    (SHARED / "spec" / "topics.yml").read_text(encoding="utf-8"))["topics"]]


def load_real_questions() -> list[tuple[str, str]]:
    path = SHARED / "eval" / "real_questions_dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], r["topic"]) for r in rows]



def train(config: Path, out_dir: Path, name: str) -> tuple[Path, float]:
    """Train a model with ``config`` on the project's domain and data; return (path, seconds)."""
    started = time.monotonic()
    write_training_data()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--config", str(config), "--domain", "domain.yml",
         "--data", "data", "--out", str(out_dir), "--fixed-model-name", name],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return out_dir / f"{name}.tar.gz", time.monotonic() - started


def project_model() -> Path:
    """The model matching the current data, trained if needed (as `make run` does)."""
    return ensure_model(load_settings())


def start_server(argv: list[str], env: dict[str, str], log: Path, health: str, cwd: Path = ROOT,
                 seconds: float = 240) -> subprocess.Popen:
    """Start one server and wait until ``health`` answers."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{argv[2:4]} exited during start-up:\n{tail}")
        try:
            if requests.get(health, timeout=2).ok:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise TimeoutError(f"{argv[2:4]} did not start; see {log}")


# Tokens of the servers a benchmark starts (servers refuse secrets under 32 characters).
RASA_TOKEN = "bench-rasa-api-token-0123456789abcdef"
REST_TOKEN = "bench-rest-channel-token-0123456789abcdef"
REST_AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}


class RasaServer:
    """A given model on a real Rasa server (our launcher, SQL tracker store) and action server,
    as in production, on free ports and a temporary var/ (SQLite)."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="niangjia-bench-")
        self._procs: list[subprocess.Popen] = []

    def __enter__(self) -> "RasaServer":
        var = Path(self._tmp.name)
        actions_port = free_port()
        env = dict(os.environ, **load_settings().channel_env, NIANGJIA_VAR_DIR=str(var),
                   ACTIONS_PORT=str(actions_port), TRACKER_URL=f"sqlite:///{var / 'tracker.db'}",
                   CALLBACK_URL="", REDIS_URL="", REST_TOKEN=REST_TOKEN, TF_CPP_MIN_LOG_LEVEL="2", SANIC_AUTO_EXTEND="false",
                   ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook")
        rasa = [sys.executable, "-m", "bot.rasa_server", "run", "--model", str(self.model),
                "--port", str(self.port), "--interface", "127.0.0.1", "--credentials", "credentials.yml",
                "--endpoints", "endpoints.yml", "--quiet"]
        try:
            self._procs.append(start_server([sys.executable, "-m", "bot.cli", "run", "actions"], env,
                                      var / "actions.log", f"http://127.0.0.1:{actions_port}/health"))
            self._procs.append(start_server(rasa, env, var / "rasa.log", f"{self.url}/"))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self._procs)
        self._tmp.cleanup()


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def quiet_rasa_logs() -> None:
    """Rasa 3.6 logs every parse through structlog at debug level; keep benchmarks readable."""
    import logging

    import structlog

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


class Assistant:
    """Rasa server + action server started by `niangjia run`, on a temporary var/ (SQLite)."""

    def __init__(self, **extra_env: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="niangjia-bench-")
        var = Path(self._tmp.name)
        self.env = dict(os.environ, NIANGJIA_VAR_DIR=str(var), RASA_PORT=str(free_port()),
                        ACTIONS_PORT=str(free_port()), RASA_TOKEN=RASA_TOKEN, REST_TOKEN=REST_TOKEN,
                        CALLBACK_URL="",
                        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        **extra_env)
        self.rasa_url = f"http://127.0.0.1:{self.env['RASA_PORT']}"
        self.database_url = f"sqlite:///{var / 'niangjia.db'}"
        self._procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Assistant":
        var = Path(self._tmp.name)
        try:
            for name, health in (("actions", f"http://127.0.0.1:{self.env['ACTIONS_PORT']}/health"),
                                 ("rasa", f"{self.rasa_url}/status?token={RASA_TOKEN}")):
                self._procs.append(start_server([sys.executable, "-m", "bot.cli", "run", name], self.env,
                                          var / f"{name}.log", health))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self._procs)
        self._tmp.cleanup()
