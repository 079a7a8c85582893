"""The training subprocess: progress from Rasa's epoch bars, failures reported."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.teaching import trainer
from bot.teaching.trainer import EpochProgress, TrainingFailed, count_epoch_components, train_in_subprocess
from tests.conftest import ROOT

# What Rasa's tqdm bars look like on a pipe: two components, carriage returns between updates.
FAKE_RASA = r"""
import sys
for epochs in (4, 2):
    for done in range(epochs + 1):
        sys.stdout.write(f"\rEpochs: {done * 100 // epochs:3d}%|##| {done}/{epochs} [00:01<00:01]")
        sys.stdout.flush()
    sys.stdout.write("\n")
sys.exit(int(sys.argv[1]))
"""


def test_two_bars_fold_into_one_rising_percentage():
    progress = EpochProgress(bars=2)
    seen = [progress.feed(p) for p in (0, 50, 100, 0, 50, 100)]
    assert seen == [0, 25, 50, 50, 75, 99]


def test_the_project_config_has_one_epoch_component():
    assert count_epoch_components(ROOT / "config.yml") == 1  # RetrievalOnlyResponseSelector (intents: TF-IDF, no epochs)


@pytest.fixture
def fake_rasa(monkeypatch, tmp_path: Path):
    (tmp_path / "config.yml").write_text(
        "pipeline:\n  - name: DIETClassifier\n  - name: ResponseSelector\npolicies: []\n", encoding="utf-8")

    def use(exit_code: int) -> None:
        monkeypatch.setattr(trainer, "train_command",
                            lambda out, name: [sys.executable, "-c", FAKE_RASA, str(exit_code)])
    return use


def test_progress_is_reported_from_the_subprocess_output(fake_rasa, tmp_path):
    fake_rasa(0)
    seen: list[int] = []
    model = train_in_subprocess(tmp_path, tmp_path / "models", "niangjia-x", seen.append, tmp_path / "train.log")
    assert model == tmp_path / "models" / "niangjia-x.tar.gz"
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 100 and 50 in seen
    assert b"Epochs" in (tmp_path / "train.log").read_bytes()


def test_a_failed_training_raises_with_the_log_path(fake_rasa, tmp_path):
    fake_rasa(1)
    with pytest.raises(TrainingFailed, match="train.log"):
        train_in_subprocess(tmp_path, tmp_path / "models", "niangjia-x", lambda pct: None, tmp_path / "train.log")


def test_training_runs_below_the_live_servers_priority(tmp_path):
    command = trainer.train_command(tmp_path, "niangjia-x")
    assert Path(command[0]).name == "nice" and command[1:3] == ["-n", trainer.NICENESS]
    assert command[-2:] == ["--fixed-model-name", "niangjia-x"]
