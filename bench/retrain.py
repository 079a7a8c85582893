"""Publishing staff-made FAQs: how long retraining takes, whether workers wait, whether FAQs are reached.

Issue 5 asks: "Retraining after one FAQ change takes <= 5 minutes on 2 cores and the live
server never stops answering meanwhile"; issue 17: "New staff FAQs: >= 2 of 3 blind paraphrases
reach the FAQ after one publish". This copies the project (config, domain, data, tests/nlu) to
a temporary root, starts its Rasa server with the current model as `niangjia run rasa` does (and
its action server, so that replies are what a worker reads),
and publishes the FAQs of `bench/faq_cases/variants.yml` (ten FAQs, five question variants
each) in one `bot.teaching.publish.publish` while a worker message goes to the REST webhook
every 0.25 s (sent on schedule, whether or not the previous one was answered). Then each
paraphrase of `bench/faq_cases/paraphrases.yml` (written blind, by someone who never saw the
variants) goes to the webhook: reached = the reply is that FAQ's answer, or the parse's topic
is that FAQ. Prints stage times, held-out topic accuracy and out-of-scope rejection
(tests/nlu) live vs new, the requests' failures and latency, and the paraphrases reached per
FAQ and in all, and how many replies carry the FAQ's answer (the texts of the misses and the
replies they got only with --show-misses: the paraphrases must stay unseen by whoever tunes the
matching; use it on bench/faq_tuning).

The live model's evaluation is not cached in the copy (worst case: both are measured).

Usage: python bench/retrain.py [--cases DIR] [--show-misses] [--config C.yml] [--max-drop 0.01]
                               [--interval 0.25]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RASA_TOKEN, REST_AUTH, REST_TOKEN, ROOT, free_port, load_nlu_examples, start_server, topic_of,
)
from nlu_accuracy import score  # noqa: E402

from bot.config import Settings, load_settings  # noqa: E402
from bot.teaching.publish import TEST_SET, PublishOutcome, publish  # noqa: E402
from bot.teaching.staff_data import FaqSpec  # noqa: E402
from bot.training import ensure_model, model_path  # noqa: E402

CASES = ROOT / "bench" / "faq_cases"
BACKGROUND_QUESTION = "老板两个月没给我发工资了怎么办"
INPUTS = ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml")


@dataclass(frozen=True)
class Attempt:
    slug: str
    text: str
    reached: bool
    got: str  # the parse's topic and intent confidence
    answered: bool = False  # the reply itself carries the FAQ's answer
    reply: str = ""  # the reply's first message, shortened


def load_cases(directory: Path) -> tuple[list[FaqSpec], dict[str, list[str]]]:
    """The FAQs to publish (variants.yml) and the paraphrases by FAQ slug (paraphrases.yml)."""
    variants = yaml.safe_load((directory / "variants.yml").read_text(encoding="utf-8"))
    faqs = [FaqSpec(f["slug"], list(f["questions"]), f["answer"], f.get("basis", "")) for f in variants["faqs"]]
    paraphrases = yaml.safe_load((directory / "paraphrases.yml").read_text(encoding="utf-8"))["paraphrases"]
    return faqs, {slug: list(texts) for slug, texts in paraphrases.items()}


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] if ordered else 0.0


def copy_project(root: Path, config: Path | None = None) -> None:
    for name in INPUTS:
        shutil.copy2(ROOT / name, root / name)
    if config:
        shutil.copy2(config, root / "config.yml")
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests" / "nlu", root / "tests" / "nlu",
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    (root / "models").mkdir()


def live_model(settings: Settings) -> Path:
    """The model for the copy's inputs: the project's own if trained (same fingerprint: the copy
    has the same inputs), else trained in the copy, never into the project's models/."""
    trained = model_path(load_settings())
    if trained.name == model_path(settings).name and trained.is_file():
        shutil.copy2(trained, settings.models_dir / trained.name)
        return settings.models_dir / trained.name
    print("no project model for the current inputs: training the live model in the copy", flush=True)
    return ensure_model(settings)


def environment(root: Path) -> dict[str, str]:
    return dict(os.environ, NIANGJIA_ROOT=str(root), NIANGJIA_VAR_DIR=str(root / "var"),
                NIANGJIA_MODELS_DIR=str(root / "models"), RASA_PORT=str(free_port()),
                ACTIONS_PORT=str(free_port()), WEB_PORT=str(free_port()), RASA_TOKEN=RASA_TOKEN, REST_TOKEN=REST_TOKEN,
                CALLBACK_URL="", RASA_TELEMETRY_ENABLED="false",
                PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def start_rasa(env: dict[str, str], log: Path) -> subprocess.Popen:
    return start_server([sys.executable, "-m", "bot.cli", "run", "rasa"], env, log,
                        f"http://127.0.0.1:{env['RASA_PORT']}/status?token={env['RASA_TOKEN']}",
                        cwd=Path(env["NIANGJIA_ROOT"]), seconds=300)


def start_actions(env: dict[str, str], log: Path) -> subprocess.Popen:
    """The action server, so that replies are what a worker gets (session start, answers' actions)."""
    # It runs in the copy (NIANGJIA_ROOT: its data), with the project's code.
    code = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return start_server([sys.executable, "-m", "bot.cli", "run", "actions"], {**env, "PYTHONPATH": code}, log,
                        f"http://127.0.0.1:{env['ACTIONS_PORT']}/health")


def parse(settings: Settings, text: str) -> dict:
    response = requests.post(f"{settings.rasa_url}/model/parse", params={"token": settings.rasa_token},
                             json={"text": text}, timeout=60)
    response.raise_for_status()
    return response.json()


def say(settings: Settings, sender: str, text: str, timeout: float = 60) -> list[str]:
    response = requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", headers=REST_AUTH,
                             json={"sender": sender, "message": text}, timeout=timeout)
    response.raise_for_status()
    return [m.get("text") or "" for m in response.json()]


def attempts(settings: Settings, faqs: list[FaqSpec], paraphrases: dict[str, list[str]]) -> list[Attempt]:
    """Each paraphrase as a new conversation: does it reach its FAQ?"""
    answers = {faq.slug: faq.answer.strip()[:20] for faq in faqs}
    results = []
    for slug, texts in paraphrases.items():
        for n, text in enumerate(texts):
            replies = say(settings, f"bench-faq-{slug}-{n}", text)
            parsed = parse(settings, text)
            topic = topic_of(parsed)
            answered = any(answers[slug] in r for r in replies)
            results.append(Attempt(slug, text, answered or topic == slug,
                                   f"{topic} {(parsed.get('intent') or {}).get('confidence', 0):.2f}", answered,
                                   (replies[0] if replies else "")[:40].replace("\n", " ")))
    return results


def reached_without_matcher(model: Path, paraphrases: dict[str, list[str]]) -> int:
    """Paraphrases the same model reaches with bot.nlu.faq_match.FaqMatcher passing every message
    through: what the intent classifier and the ResponseSelector reach alone."""
    import asyncio

    from rasa.core.agent import Agent

    from bot.nlu.faq_match import FaqMatcher

    original, FaqMatcher.process = FaqMatcher.process, lambda self, messages: messages
    try:
        agent = Agent.load(str(model))

        async def run() -> list[bool]:
            return [topic_of(await agent.parse_message(text)) == slug
                    for slug, texts in paraphrases.items() for text in texts]
        return sum(asyncio.run(run()))
    finally:
        FaqMatcher.process = original


def held_out(settings: Settings) -> dict:
    """Topic accuracy and out-of-scope rejection of the running model on tests/nlu (held out)."""
    pairs = load_nlu_examples(settings.project_root / TEST_SET)
    return score(pairs, [parse(settings, text) for text, _ in pairs])


class Traffic:
    """A worker message every ``interval`` seconds, on schedule, until stopped."""

    def __init__(self, settings: Settings, interval: float) -> None:
        self.settings, self.interval = settings, interval
        self.latencies: list[float] = []
        self.failures = 0
        self._lock = threading.Lock()
        self._futures: list[Future] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=256)
        self._thread = threading.Thread(target=self._send_on_schedule, daemon=True)

    def _one(self, n: int) -> None:
        started = time.monotonic()
        try:
            ok = bool(say(self.settings, f"bench-worker-{n % 20}", BACKGROUND_QUESTION))
        except requests.RequestException:
            ok = False
        with self._lock:
            if ok:
                self.latencies.append(time.monotonic() - started)
            else:
                self.failures += 1

    def _send_on_schedule(self) -> None:
        n, next_at = 0, time.monotonic()
        while not self._stop.is_set():
            self._futures.append(self._pool.submit(self._one, n))
            n += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> "Traffic":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for future in self._futures:
            future.result()
        self._pool.shutdown()

    @property
    def sent(self) -> int:
        return len(self._futures)


def printer() -> Callable[[str, int, str], None]:
    last: dict[str, int] = {}

    def progress(stage: str, percent: int, message: str) -> None:
        if stage == "training" and percent - last.get(stage, -100) < 10 and percent != 100:
            return
        last[stage] = percent
        print(f"  [{time.strftime('%H:%M:%S')}] {stage:<10} {percent:>3}%", flush=True)
    return progress


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=Path, default=CASES, help="a folder with variants.yml and paraphrases.yml")
    parser.add_argument("--show-misses", action="store_true", help="print the paraphrases that missed")
    parser.add_argument("--config", type=Path, help="the copy's config.yml instead of the project's")
    parser.add_argument("--max-drop", type=float, default=None, help="default: PUBLISH_MAX_DROP (0.01)")
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--train-log", type=Path, help="keep rasa train's output here")
    args = parser.parse_args()
    faqs, paraphrases = load_cases(args.cases)
    with tempfile.TemporaryDirectory(prefix="niangjia-retrain-") as tmp:
        root = Path(tmp)
        copy_project(root, args.config)
        env = environment(root)
        settings = load_settings(env)
        live_model(settings)
        actions = start_actions(env, root / "actions.log")
        proc = start_rasa(env, root / "rasa.log")
        try:
            live = held_out(settings)
            with Traffic(settings, args.interval) as traffic:
                max_drop = settings.publish_max_drop if args.max_drop is None else args.max_drop
                outcome = publish(settings, faqs, [], printer(), max_drop=max_drop)
            new = held_out(settings) if outcome.stage == "live" else None
            tried = attempts(settings, faqs, paraphrases)
        finally:
            for server in (proc, actions):
                server.terminate()
                server.wait(timeout=30)
            if args.train_log and (root / "var" / "publish" / "train.log").exists():
                shutil.copyfile(root / "var" / "publish" / "train.log", args.train_log)
        alone = reached_without_matcher(outcome.model, paraphrases) if outcome.model else None
        report(outcome, traffic, live, new, tried, args.show_misses)
        if alone is not None:
            print(f"the same model without the FaqMatcher (the intent classifier and the ResponseSelector alone): "
                  f"{alone}/{len(tried)}")


def report(outcome: PublishOutcome, traffic: Traffic, live: dict, new: dict | None,
           tried: list[Attempt], show_misses: bool) -> None:
    s = outcome.seconds
    print(f"\noutcome: {outcome.stage}  model: {outcome.model.name if outcome.model else '-'}")
    print(f"training {s.get('training', 0):.1f} s, evaluation {s.get('evaluating', 0):.1f} s, "
          f"loading {s.get('loading', 0):.1f} s, whole publish {s.get('total', 0):.1f} s")
    if outcome.new and outcome.live:
        print(f"publish's check on tests/nlu: live {outcome.live.correct}/{outcome.live.total} "
              f"({outcome.live.accuracy:.1%}), new {outcome.new.correct}/{outcome.new.total} "
              f"({outcome.new.accuracy:.1%}; of these, union-service questions a staff FAQ now answers: "
              f"{outcome.new.refined})")
    for name, figures in (("live", live), ("new", new)):
        if figures:
            print(f"held-out tests/nlu, {name} model: topic accuracy {figures['topic_accuracy']:.1%}, "
                  f"out of scope rejected {figures['oos_rejection']:.1%}")
    lat = traffic.latencies
    print(f"requests during publish: sent {traffic.sent}, failed {traffic.failures}, "
          f"p50 {_percentile(lat, 50) * 1000:.0f} ms, p95 {_percentile(lat, 95) * 1000:.0f} ms, "
          f"max {max(lat, default=0) * 1000:.0f} ms")
    for slug in dict.fromkeys(a.slug for a in tried):
        mine = [a for a in tried if a.slug == slug]
        misses = [a.got for a in mine if not a.reached]
        print(f"  {slug:<24} {sum(a.reached for a in mine)}/{len(mine)}"
              + (f"  missed as: {', '.join(misses)}" if misses else ""))
        if show_misses:
            for attempt in (a for a in mine if not a.answered):
                print(f"      {attempt.text}  ->  {attempt.reply}")
    slugs = {a.slug for a in tried}
    two_of_three = sum(1 for slug in slugs if sum(a.reached for a in tried if a.slug == slug) >= 2)
    print(f"paraphrases reaching their FAQ: {sum(a.reached for a in tried)}/{len(tried)}; FAQs with "
          f">= 2 of 3 reached: {two_of_three}/{len(slugs)}; the reply is the FAQ's answer: "
          f"{sum(a.answered for a in tried)}")


if __name__ == "__main__":
    main()
