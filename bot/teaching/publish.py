"""Publish staff-made FAQs and examples: train aside, compare, then go live or refuse.

Stages (reported through ``progress(stage, percent, message)``): ``staging`` (copy
config, domain and data to ``var/publish/staging`` and write the staff files there),
``training`` (the model is named after the staging tree's fingerprint, which the real
tree has once the staff files are copied; the live model is evaluated meanwhile),
``evaluating`` (the new model on ``tests/nlu/test_set.yml``, compared with the live one),
``loading`` (copy the staff files to ``data/staff/``, then ``PUT /model`` on every Rasa
server and confirm through ``/status``), and one of
``live`` / ``refused`` / ``failed``. Refused or failed: the real ``data/`` and the
servers' models are as before.
"""
from __future__ import annotations

import fcntl
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from bot.knowledge.generate import write_training_data
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.teaching import texts
from bot.teaching.evaluate import EvalResult, evaluate_in_subprocess, prune_orphan_caches
from bot.teaching.trainer import train_in_subprocess
from bot.teaching.staff_data import (
    STAFF_DIR, ExampleSpec, FaqSpec, domain_intents, staff_files, write_staff_data,
)
from bot.training import KEEP_MODELS, MODEL_PREFIX, fingerprint, model_path

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, str], None]
# (staged root, models folder, model name, progress callback, live model to start from or None)
Trainer = Callable[[Path, Path, str, Callable[[int], None], Path | None], Path]
Evaluator = Callable[[Path, list[Path]], EvalResult]
TEST_SET = Path("tests") / "nlu" / "test_set.yml"
_MODEL_INPUTS = ("config.yml", "domain.yml")
LOAD_TIMEOUT = 600.0


class LoadNotConfirmed(RuntimeError):
    """A Rasa server accepted PUT /model but /status does not show the new model."""


@dataclass(frozen=True)
class PublishDeps:
    """What publishing calls out to; tests pass fakes."""

    trainer: Trainer
    evaluator: Evaluator
    loader: Callable[[str, Path], None]
    live_model_file: Callable[[str], str | None]


@dataclass(frozen=True)
class PublishOutcome:
    stage: str  # live | refused | failed
    message: str  # for staff, from texts.yml
    model: Path | None = None
    new: EvalResult | None = None
    live: EvalResult | None = None
    published: bool = False  # staff files copied into the real data/
    loaded: tuple[str, ...] = ()
    not_loaded: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)


def default_deps(settings: Settings) -> PublishDeps:
    log = settings.var_dir / "publish" / "train.log"
    return PublishDeps(
        trainer=lambda root, out, name, on_percent, warm_from: train_in_subprocess(
            root, out, name, on_percent, log, warm_from),
        evaluator=evaluate_in_subprocess,
        loader=lambda url, model: load_and_confirm(RasaClient(url, settings.rasa_token, LOAD_TIMEOUT), model),
        live_model_file=lambda url: _status_model_file(RasaClient(url, settings.rasa_token, 10.0)),
    )


def load_and_confirm(client: RasaClient, model: Path) -> None:
    """Load ``model`` into one server unless it already runs it; check /status afterwards."""
    before = client.status()
    if before.get("model_file") == model.name:
        return
    client.load_model(str(model))
    after = client.status()
    if after.get("model_file") != model.name or after.get("model_id") == before.get("model_id"):
        raise LoadNotConfirmed(f"{client.base_url} still reports {after.get('model_file')}")


def _status_model_file(client: RasaClient) -> str | None:
    try:
        return client.status().get("model_file")
    except RasaUnavailable:
        return None


def _message(key: str, **values: object) -> str:
    return str(texts()["progress"][key]).format(**values)


def _percent(result: EvalResult | None) -> str:
    return "-" if result is None else f"{result.accuracy:.1%}"


def _refined(result: EvalResult) -> str:
    """Staff see how many union-service test questions their FAQs now answer (counted right)."""
    return _message("refined", count=result.refined) if result.refined else ""


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[bool]:
    """One publish at a time per installation (the console may run several workers)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(settings: Settings, faqs: Iterable[FaqSpec], examples: Iterable[ExampleSpec],
            progress: Progress, rasa_urls: list[str] | None = None, max_drop: float = 0.0,
            deps: PublishDeps | None = None) -> PublishOutcome:
    """Train on the data plus the staff's FAQs and examples; go live unless accuracy drops.

    Never raises: a failure at any stage is logged and returned as ``failed``.
    """
    work = settings.var_dir / "publish"
    with _exclusive(work / "lock") as acquired:
        if not acquired:
            progress("failed", 100, _message("busy"))
            return PublishOutcome("failed", _message("busy"))
        run = _Run(settings, deps or default_deps(settings), progress, work / "staging")
        try:
            return run.execute(list(faqs), list(examples), rasa_urls or [settings.rasa_url], max_drop)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome
            logger.exception("publish failed during %s", run.stage)
            key = "failed_after_publish" if run.details.get("published") else "failed"
            return run.finish("failed", _message(key, reason=f"{type(exc).__name__}: {exc}"))
        finally:
            shutil.rmtree(work / "staging", ignore_errors=True)


class _Run:
    """One publish: the stages in order, with timings and progress."""

    def __init__(self, settings: Settings, deps: PublishDeps, progress: Progress, staging: Path) -> None:
        self.settings, self.deps, self.progress, self.staging = settings, deps, progress, staging
        self.stage = "staging"
        self.started = self.stage_started = time.monotonic()
        self.seconds: dict[str, float] = {}
        self.previous: list[Path] = []  # the live model, kept on disk to roll back to
        self.details: dict[str, object] = {}

    def enter(self, stage: str, percent: int = 0, message: str | None = None) -> None:
        self.seconds[self.stage] = round(time.monotonic() - self.stage_started, 1)
        self.stage, self.stage_started = stage, time.monotonic()
        self.report(percent, message or _message(stage))

    def report(self, percent: int, message: str) -> None:
        try:
            self.progress(self.stage, percent, message)
        except Exception:  # noqa: BLE001 - a broken progress display must not stop publishing
            logger.exception("progress callback failed")

    def finish(self, stage: str, message: str) -> PublishOutcome:
        self.enter(stage, 100, message)
        self.seconds["total"] = round(time.monotonic() - self.started, 1)
        logger.info("publish %s in %.1fs: %s", stage, self.seconds["total"], self.seconds)
        return PublishOutcome(stage, message, seconds=dict(self.seconds), **self.details)

    def execute(self, faqs: list[FaqSpec], examples: list[ExampleSpec], urls: list[str],
                max_drop: float) -> PublishOutcome:
        self.report(0, _message("staging"))
        name = MODEL_PREFIX + stage_tree(self.settings.project_root, self.staging, faqs, examples)
        target = self.settings.models_dir / f"{name}.tar.gz"
        live_model = self.live_model(urls)
        self.previous = [live_model] if live_model else []
        # The live model is measured while the new one trains: training leaves a core idle for
        # part of its time (Rasa's start, reading and validating the data, tokenising), and the
        # result is cached beside the model, so a failed or refused publish has not wasted it.
        # bench/retrain.py: the evaluation stage 52 -> 32 s.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish-live-eval")
        try:
            pending = (pool.submit(self.deps.evaluator, live_model, self.tests)
                       if live_model is not None and live_model != target else None)
            model = self.train(name, live_model)
            new, live = self.evaluate(model, live_model, pending)
        finally:
            pool.shutdown(wait=False)
        self.details.update(model=model, new=new, live=live)
        if live is not None and new.accuracy < live.accuracy - max_drop - 1e-9:
            logger.warning("publish refused: %s scored %d/%d, live %d/%d", model.name,
                           new.correct, new.total, live.correct, live.total)
            return self.finish("refused", _message("refused", new=_percent(new), live=_percent(live),
                                                   refined=_refined(new)))
        self.enter("loading")
        install_staff_files(self.staging / "data", self.settings.project_root / "data")
        self.details["published"] = True
        _check_fingerprint(self.settings.project_root, model)
        return self.load_everywhere(model, urls, new, live)

    def train(self, name: str, live_model: Path | None) -> Path:
        """Train the staged tree; the intent classifier starts from the live model's fit (the same
        optimum, reached sooner: bot.nlu.warm_start)."""
        self.enter("training", 0, _message("training", percent=0))
        target = self.settings.models_dir / f"{name}.tar.gz"
        if target.exists():
            self.report(100, _message("already_trained"))
            return target
        self.settings.models_dir.mkdir(parents=True, exist_ok=True)
        on_percent = lambda pct: self.report(pct, _message("training", percent=pct))  # noqa: E731
        model = self.deps.trainer(self.staging, self.settings.models_dir, name, on_percent, live_model)
        if not model.exists():
            raise FileNotFoundError(f"training produced no {model.name}")
        return model

    @property
    def tests(self) -> list[Path]:
        return [self.settings.project_root / TEST_SET]

    def evaluate(self, model: Path, live_model: Path | None,
                 pending: Future[EvalResult] | None) -> tuple[EvalResult, EvalResult | None]:
        self.enter("evaluating")
        new = self.deps.evaluator(model, self.tests)
        self.report(50, _message("evaluating"))
        if live_model is None:
            logger.warning("no live model found: publishing without a comparison")
            return new, None
        return new, (pending.result() if pending is not None else new)

    def live_model(self, urls: list[str]) -> Path | None:
        """The model the first reachable server runs, else the one matching the real data."""
        for url in urls:
            name = self.deps.live_model_file(url)
            if name and (self.settings.models_dir / name).is_file():
                return self.settings.models_dir / name
        current = model_path(self.settings)
        if current.is_file():
            return current
        models = sorted(self.settings.models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"),
                        key=lambda p: p.stat().st_mtime)
        return models[-1] if models else None

    def load_everywhere(self, model: Path, urls: list[str], new: EvalResult,
                        live: EvalResult | None) -> PublishOutcome:
        loaded, not_loaded = [], []
        for url in urls:
            try:
                self.deps.loader(url, model)
                loaded.append(url)
            except Exception:  # noqa: BLE001 - report every server, keep going
                logger.exception("loading %s into %s failed", model.name, url)
                not_loaded.append(url)
        self.details.update(loaded=tuple(loaded), not_loaded=tuple(not_loaded))
        if not_loaded:
            return self.finish("failed", _message("load_failed", servers=", ".join(not_loaded)))
        prune_models(self.settings.models_dir, keep={model, *self.previous})
        prune_orphan_caches(self.settings.models_dir)
        return self.finish("live", _message("live", new=_percent(new), live=_percent(live), refined=_refined(new)))


def stage_tree(project_root: Path, staging: Path, faqs: list[FaqSpec],
               examples: list[ExampleSpec]) -> str:
    """Copy the model inputs to ``staging``, write the staff files; return its fingerprint."""
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in _MODEL_INPUTS:
        shutil.copy2(project_root / name, staging / name)
    shutil.copytree(project_root / "data", staging / "data",
                    ignore=shutil.ignore_patterns("__pycache__"))
    data = staging / "data"
    write_training_data(data / "knowledge" / "topics.yml", data / "generated" / "knowledge.yml")
    write_staff_data(data, faqs, examples, domain_intents(staging / "domain.yml"))
    return fingerprint(staging)


def install_staff_files(source_data: Path, target_data: Path) -> None:
    """Make ``target_data/staff`` hold exactly the staff files of ``source_data``."""
    wanted = {path.name: path for path in staff_files(source_data)}
    target_dir = target_data / STAFF_DIR
    for present in staff_files(target_data):
        if present.name not in wanted:
            present.unlink()
    for name, source in wanted.items():
        target = target_dir / name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            target_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if target_dir.is_dir() and not any(target_dir.iterdir()):
        target_dir.rmdir()


def prune_models(models_dir: Path, keep: set[Path], count: int = KEEP_MODELS) -> None:
    """Keep ``keep`` and the newest others up to ``count`` models (each is ~130 MB)."""
    others = sorted((p for p in models_dir.glob(f"{MODEL_PREFIX}*.tar.gz") if p not in keep),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for path in others[max(0, count - len(keep)):]:
        path.unlink(missing_ok=True)


def _check_fingerprint(project_root: Path, model: Path) -> None:
    """Warn when the real tree no longer matches the model (someone changed data meanwhile)."""
    data = project_root / "data"
    write_training_data(data / "knowledge" / "topics.yml", data / "generated" / "knowledge.yml")
    expected = model.name.removeprefix(MODEL_PREFIX).removesuffix(".tar.gz")
    actual = fingerprint(project_root)
    if actual != expected:
        logger.warning("data changed during publish: tree %s, model %s; the next start retrains",
                       actual, expected)
