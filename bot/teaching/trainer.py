"""``rasa train`` in a child process, at low CPU priority, with its epoch progress.

The live Rasa server shares the machine's cores while a model trains: ``nice`` keeps the
server's answers first. Rasa's Keras callback prints a tqdm bar ("Epochs:  45%|...") per
TensorFlow component; the bars are folded into one percentage for the whole training.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

# Components that train with epochs, each printing one tqdm bar (ours by their class name).
_EPOCH_COMPONENTS = {"DIETClassifier", "ResponseSelector", "RetrievalOnlyResponseSelector", "TEDPolicy",
                     "UnexpecTEDIntentPolicy"}
_EPOCHS = re.compile(rb"Epochs:\s+(\d{1,3})%")
NICENESS = "10"


class TrainingFailed(RuntimeError):
    """``rasa train`` exited with an error; the log file says why."""


class EpochProgress:
    """Folds successive tqdm bars (each 0→100 %) into one 0→99 % figure."""

    def __init__(self, bars: int) -> None:
        self.bars = max(bars, 1)
        self.bar = -1
        self.last: int | None = None

    def feed(self, percent: int) -> int:
        if self.last is None or percent < self.last:
            self.bar = min(self.bar + 1, self.bars - 1)
        self.last = percent
        return min(99, (self.bar * 100 + percent) // self.bars)


def count_epoch_components(config_path: Path) -> int:
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    steps = (config.get("pipeline") or []) + (config.get("policies") or [])
    return sum(1 for step in steps if str(step.get("name")).rsplit(".", 1)[-1] in _EPOCH_COMPONENTS)


def train_command(models_dir: Path, name: str) -> list[str]:
    command = [sys.executable, "-m", "rasa", "train", "--config", "config.yml",
               "--domain", "domain.yml", "--data", "data", "--out", str(models_dir),
               "--fixed-model-name", name]
    nice = shutil.which("nice")
    return [nice, "-n", NICENESS, *command] if nice else command


def train_in_subprocess(root: Path, models_dir: Path, name: str,
                        on_percent: Callable[[int], None], log_path: Path) -> Path:
    """Train ``root``'s config, domain and data into ``models_dir/<name>.tar.gz``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tracker = EpochProgress(count_epoch_components(root / "config.yml"))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    logger.info("training %s in %s", name, root)
    with log_path.open("wb") as log, subprocess.Popen(
        train_command(models_dir, name), cwd=root, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as proc:
        _follow(proc, log, tracker, on_percent)
    if proc.returncode != 0:
        raise TrainingFailed(f"rasa train exited with {proc.returncode}; see {log_path}")
    on_percent(100)
    return models_dir / f"{name}.tar.gz"


def _follow(proc: subprocess.Popen, log, tracker: EpochProgress,
            on_percent: Callable[[int], None]) -> None:
    """Copy the child's output to ``log``; report each new overall percentage."""
    assert proc.stdout is not None
    reported = -1
    tail = b""
    while chunk := proc.stdout.read1(65536):
        log.write(chunk)
        text = tail + chunk
        end = 0
        for match in _EPOCHS.finditer(text):
            end = match.end()
            overall = tracker.feed(int(match.group(1)))
            if overall != reported:
                reported = overall
                on_percent(overall)
        tail = text[end:][-32:]  # a bar split across reads, never one already counted
    proc.wait()
