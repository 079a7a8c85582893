"""Settings come from the environment with working defaults; models are cached by data fingerprint."""
from __future__ import annotations

import shutil

import pytest

from bot.config import load_settings
from bot.training import fingerprint, model_path
from tests.conftest import ROOT


def test_defaults_run_everything_on_one_machine(tmp_path):
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path)})
    assert (settings.rasa_port, settings.actions_port, settings.web_port) == (5005, 5055, 8000)
    assert settings.database_url == f"sqlite:///{tmp_path / 'niangjia.db'}"
    assert settings.tracker_url == f"sqlite:///{tmp_path / 'tracker.db'}"
    assert settings.action_endpoint == "http://127.0.0.1:5055/webhook"


def test_postgresql_holds_our_tables_and_rasas_tracker(tmp_path):
    url = "postgresql://u:p@db:5432/niangjia"
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "DATABASE_URL": url})
    assert settings.database_url == settings.tracker_url == url


def test_api_token_is_generated_once_and_kept_private(tmp_path):
    first = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path)}).rasa_token
    second = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path)}).rasa_token
    assert first == second and len(first) >= 32
    assert (tmp_path / "rasa_token").stat().st_mode & 0o077 == 0


def test_explicit_token_wins(tmp_path):
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "RASA_TOKEN": "abc"})
    assert settings.rasa_token == "abc"
    assert not (tmp_path / "rasa_token").exists()


def test_bad_port_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match="RASA_PORT"):
        load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "RASA_PORT": "five"})


def test_handoff_time_limits_are_minutes_whole_or_not(tmp_path):
    defaults = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path)})
    assert (defaults.crisis_claim_minutes, defaults.handoff_claim_minutes, defaults.handoff_ack_minutes) == (3, 10, 3)
    short = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "CRISIS_CLAIM_MINUTES": "0.05",
                           "HANDOFF_ACK_MINUTES": "5"})
    assert (short.crisis_claim_minutes, short.handoff_ack_minutes) == (0.05, 5)
    for bad in ("-1", "three", "nan", "inf"):
        with pytest.raises(ValueError, match="HANDOFF_CLAIM_MINUTES"):
            load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "HANDOFF_CLAIM_MINUTES": bad})


def test_fingerprint_changes_with_training_data_only(tmp_path):
    for name in ("config.yml", "domain.yml"):
        (tmp_path / name).write_text("x: 1\n", encoding="utf-8")
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    nlu = tmp_path / "data" / "nlu" / "a.yml"
    nlu.write_text("- 你好\n", encoding="utf-8")
    before = fingerprint(tmp_path)
    (tmp_path / "README.md").write_text("docs do not retrain\n", encoding="utf-8")
    assert fingerprint(tmp_path) == before
    nlu.write_text("- 您好\n", encoding="utf-8")
    assert fingerprint(tmp_path) != before


def test_model_is_named_after_the_fingerprint(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    settings = load_settings({"NIANGJIA_ROOT": str(tmp_path), "NIANGJIA_VAR_DIR": str(tmp_path / "var")})
    assert model_path(settings).name == f"niangjia-{fingerprint(tmp_path)}.tar.gz"


def test_two_callers_train_one_model_and_the_second_waits_for_it(tmp_path, monkeypatch):
    import threading
    import time

    from bot import training

    calls = []

    def slow_train(command, cwd, check):  # stands in for `rasa train`
        calls.append(command)
        time.sleep(0.3)
        out = command[command.index("--out") + 1]
        name = command[command.index("--fixed-model-name") + 1]
        (tmp_path / "models").joinpath(f"{name}.tar.gz").write_bytes(b"model")
        assert out == str(tmp_path / "models")

    monkeypatch.setattr(training.subprocess, "run", slow_train)
    monkeypatch.setattr(training, "write_training_data", lambda: None)
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path / "var"), "NIANGJIA_MODELS_DIR": str(tmp_path / "models")})
    found = []
    threads = [threading.Thread(target=lambda: found.append(training.ensure_model(settings))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and found[0] == found[1] and found[0].read_bytes() == b"model"
