"""Publishing: the live model and data change only when the new model is no worse."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.config import Settings
from bot.teaching.evaluate import EvalResult
from bot.teaching.publish import (
    LoadNotConfirmed, PublishDeps, _exclusive, load_and_confirm, publish,
)
from bot.teaching.staff_data import ExampleSpec, FaqSpec
from bot.training import fingerprint

HOURS = FaqSpec("office_hours", ["工会几点开门", "工会周末有人吗"], "周一至周五 9:00-17:00。", "服务中心公约")
LIVE = "niangjia-live000000000000.tar.gz"
URLS = ["http://rasa-1", "http://rasa-2"]


def _result(accuracy: float) -> EvalResult:
    return EvalResult(round(accuracy * 100), 100, accuracy)


class Fakes:
    """Trainer, evaluator and loader that record what publishing asked of them."""

    def __init__(self, settings: Settings, new_accuracy: float = 0.9, live_accuracy: float = 0.9,
                 train_error: Exception | None = None, failing_url: str | None = None) -> None:
        self.settings = settings
        self.new_accuracy, self.live_accuracy = new_accuracy, live_accuracy
        self.train_error, self.failing_url = train_error, failing_url
        self.trained: list[tuple[Path, str]] = []
        self.warm_from: list[Path | None] = []
        self.evaluated: list[str] = []
        self.loaded: list[tuple[str, Path]] = []
        settings.models_dir.mkdir(parents=True, exist_ok=True)
        (settings.models_dir / LIVE).write_bytes(b"live model")

    def train(self, root: Path, out: Path, name: str, on_percent, warm_from: Path | None) -> Path:
        self.trained.append((root, name))
        self.warm_from.append(warm_from)
        self.staged_fingerprint = fingerprint(root)
        for pct in (0, 50, 100):
            on_percent(pct)
        if self.train_error:
            raise self.train_error
        model = out / f"{name}.tar.gz"
        model.write_bytes(b"new model")
        return model

    def evaluate(self, model: Path, tests: list[Path]) -> EvalResult:
        assert tests == [self.settings.project_root / "tests" / "nlu" / "test_set.yml"]
        self.evaluated.append(model.name)
        return _result(self.live_accuracy if model.name == LIVE else self.new_accuracy)

    def load(self, url: str, model: Path) -> None:
        if url == self.failing_url:
            raise ConnectionError(url)
        self.loaded.append((url, model))

    def deps(self) -> PublishDeps:
        return PublishDeps(self.train, self.evaluate, self.load, lambda url: LIVE)


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    def __call__(self, stage: str, percent: int, message: str) -> None:
        self.calls.append((stage, percent, message))

    @property
    def stages(self) -> list[str]:
        return list(dict.fromkeys(stage for stage, _, _ in self.calls))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "data").rglob("*")) if p.is_file()}


def test_success_copies_the_staff_files_and_loads_the_model_everywhere(settings):
    fakes, progress = Fakes(settings), Progress()
    outcome = publish(settings, [HOURS], [ExampleSpec("老板三个月没发钱", "wage_arrears")], progress,
                      rasa_urls=URLS, deps=fakes.deps())
    assert outcome.stage == "live" and outcome.published
    assert progress.stages == ["staging", "training", "evaluating", "loading", "live"]
    staff = settings.project_root / "data" / "staff"
    assert sorted(p.name for p in staff.iterdir()) == ["examples.yml", "faq.yml"]
    # The model is named after the staged tree, which the real tree now equals.
    assert fingerprint(settings.project_root) == fakes.staged_fingerprint
    model = settings.models_dir / f"niangjia-{fakes.staged_fingerprint}.tar.gz"
    assert fakes.loaded == [(url, model) for url in URLS]
    assert outcome.model == model and outcome.loaded == tuple(URLS)
    assert sorted(fakes.evaluated) == sorted([model.name, LIVE])
    assert not (settings.var_dir / "publish" / "staging").exists()
    # training starts from the model the servers run (bot.nlu.warm_start: a shorter fit)
    assert fakes.warm_from == [settings.models_dir / LIVE]


def test_the_live_model_is_measured_while_the_new_one_trains(settings):
    fakes, live_measured = Fakes(settings), threading.Event()
    train, evaluate = fakes.train, fakes.evaluate
    overlapped: list[bool] = []

    def slow_train(*args):
        overlapped.append(live_measured.wait(timeout=10))
        return train(*args)

    def evaluate_and_signal(model, tests):
        result = evaluate(model, tests)
        if model.name == LIVE:
            live_measured.set()
        return result

    deps = PublishDeps(slow_train, evaluate_and_signal, fakes.load, lambda url: LIVE)
    outcome = publish(settings, [HOURS], [], Progress(), deps=deps)
    assert overlapped == [True]
    assert outcome.stage == "live" and outcome.live == _result(0.9)
    assert fakes.evaluated[0] == LIVE and len(fakes.evaluated) == 2


def test_training_progress_reaches_the_caller(settings):
    progress = Progress()
    publish(settings, [HOURS], [], progress, deps=Fakes(settings).deps())
    assert [pct for stage, pct, _ in progress.calls if stage == "training"] == [0, 0, 50, 100]


def test_accuracy_drop_is_refused_and_nothing_changes(settings):
    fakes, before = Fakes(settings, new_accuracy=0.85, live_accuracy=0.9), _snapshot(settings.project_root)
    outcome = publish(settings, [HOURS], [], Progress(), rasa_urls=URLS, deps=fakes.deps())
    assert outcome.stage == "refused" and not outcome.published
    assert (outcome.new.accuracy, outcome.live.accuracy) == (0.85, 0.9)
    assert "85.0%" in outcome.message and "90.0%" in outcome.message
    assert fakes.loaded == []
    assert _snapshot(settings.project_root) == before


def test_a_drop_within_max_drop_goes_live(settings):
    fakes = Fakes(settings, new_accuracy=0.89, live_accuracy=0.9)
    outcome = publish(settings, [HOURS], [], Progress(), max_drop=0.02, deps=fakes.deps())
    assert outcome.stage == "live"


def test_staff_see_how_many_union_questions_their_faqs_now_answer(settings, monkeypatch):
    fakes = Fakes(settings)
    refined = EvalResult(90, 100, 0.9, refined=4)
    monkeypatch.setattr(fakes, "evaluate", lambda model, tests: refined if model.name != LIVE else _result(0.9))
    outcome = publish(settings, [HOURS], [], Progress(), deps=fakes.deps())
    assert outcome.stage == "live"
    assert "4 个关于入会和工会服务的问题" in outcome.message


def test_without_refined_questions_the_message_says_nothing_about_them(settings):
    outcome = publish(settings, [HOURS], [], Progress(), deps=Fakes(settings).deps())
    assert outcome.stage == "live" and "工会服务" not in outcome.message


def test_training_failure_reports_failed_and_nothing_changes(settings):
    fakes, progress = Fakes(settings, train_error=RuntimeError("rasa train exited with 1")), Progress()
    before = _snapshot(settings.project_root)
    outcome = publish(settings, [HOURS], [], progress, rasa_urls=URLS, deps=fakes.deps())
    assert outcome.stage == "failed" and not outcome.published
    assert "rasa train exited with 1" in outcome.message
    assert progress.calls[-1][0] == "failed"
    # Only the live model was measured (its result is cached beside it); nothing was loaded.
    assert fakes.loaded == [] and fakes.evaluated in ([], [LIVE])
    assert _snapshot(settings.project_root) == before


def test_invalid_staff_data_fails_before_training(settings):
    fakes, before = Fakes(settings), _snapshot(settings.project_root)
    outcome = publish(settings, [FaqSpec("Bad Slug", ["q"], "a", "")], [], Progress(), deps=fakes.deps())
    assert outcome.stage == "failed" and "slug" in outcome.message
    assert fakes.trained == [] and _snapshot(settings.project_root) == before


def test_a_server_that_cannot_load_is_reported(settings):
    fakes = Fakes(settings, failing_url=URLS[1])
    outcome = publish(settings, [HOURS], [], Progress(), rasa_urls=URLS, deps=fakes.deps())
    assert outcome.stage == "failed" and outcome.published
    assert outcome.loaded == (URLS[0],) and outcome.not_loaded == (URLS[1],)
    assert URLS[1] in outcome.message


def test_publishing_no_faqs_removes_the_staff_files(settings):
    publish(settings, [HOURS], [], Progress(), deps=Fakes(settings).deps())
    outcome = publish(settings, [], [], Progress(), deps=Fakes(settings).deps())
    assert outcome.stage == "live"
    assert not (settings.project_root / "data" / "staff").exists()


def test_an_already_trained_tree_is_not_trained_again(settings):
    fakes = Fakes(settings)
    publish(settings, [HOURS], [], Progress(), deps=fakes.deps())
    publish(settings, [HOURS], [], Progress(), deps=fakes.deps())
    assert len(fakes.trained) == 1


def test_one_publish_at_a_time(settings):
    fakes = Fakes(settings)
    with _exclusive(settings.var_dir / "publish" / "lock") as acquired:
        assert acquired
        outcome = publish(settings, [HOURS], [], Progress(), deps=fakes.deps())
    assert outcome.stage == "failed" and fakes.trained == []


class FakeClient:
    base_url = "http://rasa"

    def __init__(self, statuses: list[dict]) -> None:
        self.statuses, self.loaded = statuses, []

    def status(self) -> dict:
        return self.statuses.pop(0)

    def load_model(self, path: str) -> None:
        self.loaded.append(path)


def test_load_is_confirmed_through_status(tmp_path):
    model = tmp_path / "niangjia-new.tar.gz"
    client = FakeClient([{"model_file": LIVE, "model_id": "a"}, {"model_file": model.name, "model_id": "b"}])
    load_and_confirm(client, model)
    assert client.loaded == [str(model)]


def test_a_server_still_on_the_old_model_is_an_error(tmp_path):
    model = tmp_path / "niangjia-new.tar.gz"
    client = FakeClient([{"model_file": LIVE, "model_id": "a"}, {"model_file": LIVE, "model_id": "a"}])
    with pytest.raises(LoadNotConfirmed):
        load_and_confirm(client, model)


def test_a_server_already_on_the_model_is_left_alone(tmp_path):
    model = tmp_path / "niangjia-new.tar.gz"
    client = FakeClient([{"model_file": model.name, "model_id": "b"}])
    load_and_confirm(client, model)
    assert client.loaded == []


def test_old_models_are_pruned_but_the_previous_live_one_is_kept(settings):
    import os

    fakes = Fakes(settings)
    os.utime(settings.models_dir / LIVE, (1, 1))  # the oldest file, yet the one running
    for n in range(4):
        (settings.models_dir / f"niangjia-old{n}.tar.gz").write_bytes(b"old")
    outcome = publish(settings, [HOURS], [], Progress(), deps=fakes.deps())
    left = sorted(p.name for p in settings.models_dir.glob("niangjia-*.tar.gz"))
    assert len(left) == 3 and LIVE in left and outcome.model.name in left
