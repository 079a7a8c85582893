"""The training subprocess: progress from Rasa's epoch bars, failures reported."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from bot.nlu.warm_start import WARM_START_ENV
from bot.teaching import trainer
from bot.teaching.trainer import TrainingFailed, TrainingProgress, count_steps, train_in_subprocess
from tests.conftest import ROOT

# What Rasa prints on a pipe: components trained or restored from its cache, and one TensorFlow
# component's tqdm bar (carriage returns between updates) — three steps in the fake config below.
FAKE_RASA = r"""
import sys
print("INFO rasa.engine.training.hooks - Restored component 'JiebaTokenizer' from cache.", flush=True)
print("INFO rasa.engine.training.hooks - Starting to train component 'ResponseSelector'.", flush=True)
for done in range(5):
    sys.stdout.write(f"\rEpochs: {done * 25:3d}%|##| {done}/4 [00:01<00:01]")
    sys.stdout.flush()
print("\nINFO rasa.engine.training.hooks - Finished training component 'ResponseSelector'.", flush=True)
print("INFO rasa.engine.training.hooks - Finished training component 'RulePolicy'.", flush=True)
sys.exit(int(sys.argv[1]))
"""


def test_components_and_epoch_bars_make_one_rising_percentage():
    progress = TrainingProgress(steps=4)
    seen = [progress.component_done(), progress.epochs(0), progress.epochs(50), progress.epochs(100),
            progress.component_done(), progress.epochs(0), progress.component_done(), progress.component_done()]
    assert seen == [25, 25, 37, 50, 50, 50, 75, 99]


def test_the_project_config_counts_every_step():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    assert count_steps(ROOT / "config.yml") == len(config["pipeline"]) + len(config["policies"]) > 10


@pytest.fixture
def fake_rasa(monkeypatch, tmp_path: Path):
    (tmp_path / "config.yml").write_text(
        "pipeline:\n  - name: JiebaTokenizer\n  - name: ResponseSelector\npolicies:\n  - name: RulePolicy\n",
        encoding="utf-8")

    def use(exit_code: int) -> None:
        monkeypatch.setattr(trainer, "train_command",
                            lambda out, name: [sys.executable, "-c", FAKE_RASA, str(exit_code)])
    return use


def test_progress_is_reported_from_the_subprocess_output(fake_rasa, tmp_path):
    fake_rasa(0)
    seen: list[int] = []
    model = train_in_subprocess(tmp_path, tmp_path / "models", "niangjia-x", seen.append, tmp_path / "train.log")
    assert model == tmp_path / "models" / "niangjia-x.tar.gz"
    assert seen == sorted(seen) and seen[-1] == 100
    # The restored tokenizer is one step of three; the bar moves within the second.
    assert seen[0] == 33 and 50 in seen and 66 in seen and 99 in seen
    assert b"Epochs" in (tmp_path / "train.log").read_bytes()


def test_the_training_starts_from_the_named_model_only(monkeypatch, tmp_path):
    (tmp_path / "config.yml").write_text("pipeline: []\npolicies: []\n", encoding="utf-8")
    show = f"import os; print('warm=' + os.environ.get('{WARM_START_ENV}', 'none'))"
    monkeypatch.setattr(trainer, "train_command", lambda out, name: [sys.executable, "-c", show])
    monkeypatch.setenv(WARM_START_ENV, "/somewhere/else.tar.gz")  # a variable left by someone: ignored
    live = tmp_path / "models" / "niangjia-live.tar.gz"
    train_in_subprocess(tmp_path, tmp_path / "models", "niangjia-x", lambda pct: None, tmp_path / "a.log", live)
    train_in_subprocess(tmp_path, tmp_path / "models", "niangjia-y", lambda pct: None, tmp_path / "b.log")
    assert f"warm={live}" in (tmp_path / "a.log").read_text()
    assert "warm=none" in (tmp_path / "b.log").read_text()


def test_a_failed_training_raises_with_the_log_path(fake_rasa, tmp_path):
    fake_rasa(1)
    with pytest.raises(TrainingFailed, match="train.log"):
        train_in_subprocess(tmp_path, tmp_path / "models", "niangjia-x", lambda pct: None, tmp_path / "train.log")


def test_training_runs_below_the_live_servers_priority(tmp_path):
    command = trainer.train_command(tmp_path, "niangjia-x")
    assert Path(command[0]).name == "nice" and command[1:3] == ["-n", trainer.NICENESS]
    assert command[-2:] == ["--fixed-model-name", "niangjia-x"]
