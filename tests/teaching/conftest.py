"""A small project tree for the teaching tests: the real config, domain and data, copied."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from tests.conftest import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the model inputs and the held-out test set, as an installation has them."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns("__pycache__", "staff"))
    (root / "tests" / "nlu").mkdir(parents=True)
    shutil.copy2(ROOT / "tests" / "nlu" / "test_set.yml", root / "tests" / "nlu" / "test_set.yml")
    return root


@pytest.fixture
def settings(project: Path, tmp_path: Path) -> Settings:
    return load_settings({"NIANGJIA_ROOT": str(project), "NIANGJIA_VAR_DIR": str(tmp_path / "var"),
                          "RASA_TOKEN": "test-rasa-api-token-0123456789abcdef"})
