"""``rasa train`` in a child process, at low CPU priority, with its progress.

The live Rasa server shares the machine's cores while a model trains: ``nice`` keeps the
server's answers first. Progress is read from Rasa's output: each component it finishes
training or restores from its cache ("Finished training component 'X'.", "Restored component
'X' from cache.") is one step of the config's pipeline and policies, and the tqdm bar of a
TensorFlow component ("Epochs:  45%|...") moves within its step.
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

from bot.nlu.warm_start import WARM_START_ENV

logger = logging.getLogger(__name__)

# A tqdm epoch bar, or a component trained or restored: one match per event, in output order.
_EVENT = re.compile(rb"Epochs:\s+(\d{1,3})%|(?:Finished training|Restored) component '")
NICENESS = "10"


class TrainingFailed(RuntimeError):
    """``rasa train`` exited with an error; the log file says why."""


class TrainingProgress:
    """One 0→99 % figure for a training of ``steps`` components (pipeline and policies)."""

    def __init__(self, steps: int) -> None:
        self.steps = max(steps, 1)
        self.done = 0
        self.within = 0.0  # the current component's epoch bar, 0..1
        self.percent = 0

    def _update(self) -> int:
        figure = min(99, int(100 * (self.done + self.within) / self.steps))
        self.percent = max(self.percent, figure)
        return self.percent

    def component_done(self) -> int:
        self.done = min(self.done + 1, self.steps)
        self.within = 0.0
        return self._update()

    def epochs(self, percent: int) -> int:
        self.within = min(percent, 100) / 100
        return self._update()


def count_steps(config_path: Path) -> int:
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    return len(config.get("pipeline") or []) + len(config.get("policies") or [])


def train_command(models_dir: Path, name: str) -> list[str]:
    """``rasa train`` of the staged tree. Without Rasa's validation step (domain, intents and
    story conflicts: ~11 s of a publish): staff add FAQs and examples only, the full training
    (``make model``) validates the same rules and stories, and Rasa's reader still checks every
    data file against its schema."""
    command = [sys.executable, "-m", "rasa", "train", "--config", "config.yml",
               "--domain", "domain.yml", "--data", "data", "--out", str(models_dir),
               "--skip-validation", "--fixed-model-name", name]
    nice = shutil.which("nice")
    return [nice, "-n", NICENESS, *command] if nice else command


def train_in_subprocess(root: Path, models_dir: Path, name: str, on_percent: Callable[[int], None],
                        log_path: Path, warm_from: Path | None = None) -> Path:
    """Train ``root``'s config, domain and data into ``models_dir/<name>.tar.gz``; the intent
    classifier's fit starts from ``warm_from``'s (bot.nlu.warm_start) when it is given."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tracker = TrainingProgress(count_steps(root / "config.yml"))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    env.pop(WARM_START_ENV, None)
    if warm_from is not None:
        env[WARM_START_ENV] = str(Path(warm_from).resolve())
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


def _follow(proc: subprocess.Popen, log, tracker: TrainingProgress,
            on_percent: Callable[[int], None]) -> None:
    """Copy the child's output to ``log``; report each new overall percentage."""
    assert proc.stdout is not None
    reported = -1
    tail = b""
    while chunk := proc.stdout.read1(65536):
        log.write(chunk)
        text = tail + chunk
        end = 0
        for match in _EVENT.finditer(text):
            end = match.end()
            overall = tracker.epochs(int(match.group(1))) if match.group(1) else tracker.component_done()
            if overall != reported:
                reported = overall
                on_percent(overall)
        tail = text[end:][-48:]  # an event split across reads, never one already counted
    proc.wait()
