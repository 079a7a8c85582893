"""Model training cached by a fingerprint of everything the model is built from.

A model is named ``niangjia-<fingerprint>.tar.gz``; when that file exists the data
has not changed and training is skipped (``make run``/``make test`` call this).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bot.config import Settings
from bot.knowledge.generate import write_training_data

logger = logging.getLogger(__name__)

MODEL_PREFIX = "niangjia-"
KEEP_MODELS = 3
_INPUTS = ("config.yml", "domain.yml", "data")


def fingerprint(root: Path) -> str:
    """Hash of the files that define the model: config, domain and all training data."""
    digest = hashlib.sha256()
    for name in _INPUTS:
        base = root / name
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.models_dir / f"{MODEL_PREFIX}{fingerprint(settings.project_root)}.tar.gz"


def ensure_model(settings: Settings, force: bool = False) -> Path:
    """Return a model trained on the current data, training one first if needed.

    One training at a time per models folder: a second caller (``make run`` beside ``make test``,
    two test processes) waits for the first and then finds its model, instead of training the same
    file at the same time (a half-written tarball) or pruning the model the other one just loaded.
    """
    with _training_lock(settings.models_dir):
        write_training_data()
        target = model_path(settings)
        if target.exists() and not force:
            logger.info("model up to date: %s", target.name)
            return target
        logger.info("training %s", target.name)
        command = [
            sys.executable, "-m", "rasa", "train",
            "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
            "--out", str(settings.models_dir),
            "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        ]
        subprocess.run(command, cwd=settings.project_root, check=True)
        _prune_old_models(settings.models_dir, keep=target)
        return target


@contextmanager
def _training_lock(models_dir: Path) -> Iterator[None]:
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".training.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune_old_models(models_dir: Path, keep: Path) -> None:
    old = sorted(
        (p for p in models_dir.glob(f"{MODEL_PREFIX}*.tar.gz") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in old[KEEP_MODELS - 1:]:
        path.unlink(missing_ok=True)
