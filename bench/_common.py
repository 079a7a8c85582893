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


class RasaServer:
    """A real `rasa run` on a free port with the SQL tracker store, as in production."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="niangjia-bench-")
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> "RasaServer":
        env = dict(os.environ, TRACKER_URL=f"sqlite:///{Path(self._tmp.name) / 'tracker.db'}",
                   CALLBACK_URL="", REDIS_URL="",
                   ACTION_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}/webhook",
                   TF_CPP_MIN_LOG_LEVEL="2")
        self._log = Path(self._tmp.name) / "rasa.log"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--model", str(self.model), "--port", str(self.port),
             "--interface", "127.0.0.1", "--credentials", "credentials.yml",
             "--endpoints", "endpoints.yml", "--quiet"],
            cwd=ROOT, env=env, stdout=self._log.open("wb"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = self._log.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"rasa server exited during start-up:\n{tail}")
            try:
                if requests.get(f"{self.url}/", timeout=2).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.5)
        raise TimeoutError("rasa server did not start")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
        self._tmp.cleanup()


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
                        ACTIONS_PORT=str(free_port()), RASA_TOKEN="bench-token", CALLBACK_URL="",
                        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        **extra_env)
        self.rasa_url = f"http://127.0.0.1:{self.env['RASA_PORT']}"
        self.database_url = f"sqlite:///{var / 'niangjia.db'}"
        self._procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Assistant":
        for name, health in (("actions", f"http://127.0.0.1:{self.env['ACTIONS_PORT']}/health"),
                             ("rasa", f"{self.rasa_url}/status?token=bench-token")):
            log = (Path(self._tmp.name) / f"{name}.log").open("wb")
            self._procs.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "run", name], cwd=ROOT,
                                                env=self.env, stdout=log, stderr=subprocess.STDOUT))
            deadline = time.monotonic() + 240
            while True:
                if self._procs[-1].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start; see {log.name}")
                try:
                    if requests.get(health, timeout=2).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            proc.wait(timeout=30)
        self._tmp.cleanup()
