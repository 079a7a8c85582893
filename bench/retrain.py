"""Publishing one staff-made FAQ: how long retraining takes, and whether workers wait.

Issue 5 asks: "Retraining after one FAQ change takes <= 5 minutes on 2 cores and the live
server never stops answering meanwhile". This copies the project (config, domain, data,
tests/nlu) to a temporary root, starts its Rasa server with the current model as
`niangjia run rasa` does, adds one FAQ and runs `bot.teaching.publish.publish` while a
worker message goes to the REST webhook every 0.25 s (sent on schedule, whether or not
the previous one was answered). Prints stage times, accuracy live vs new, the requests'
failures and latency, and whether a paraphrase of the FAQ gets the new answer.

The live model's evaluation is not cached in the copy (worst case: both are measured).

Usage: python bench/retrain.py [--max-drop 0.01] [--interval 0.25]
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
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RASA_TOKEN, REST_AUTH, REST_TOKEN, ROOT, free_port, project_model, start_server  # noqa: E402

from bot.config import Settings, load_settings  # noqa: E402
from bot.teaching.publish import PublishOutcome, publish  # noqa: E402
from bot.teaching.staff_data import FaqSpec  # noqa: E402

# Invented for this benchmark (not from the evaluation data).
FAQ = FaqSpec(
    slug="office_hours",
    questions=["工会办公室几点上班", "工会什么时候有人值班", "周末能去工会办事吗",
               "工会服务中心的开放时间", "几点可以去工会找人", "工会中午休息吗", "工会几点下班"],
    answer="区总工会职工服务中心周一至周五 8:30-12:00、13:30-17:30 开放，周六上午 9:00-12:00 有人值班，"
           "法定节假日休息。其他时间请拨打职工服务热线12351。",
    basis="区总工会职工服务中心服务公约",
)
PARAPHRASES = ["工会周六上午开门吗", "星期天能去工会吗", "工会下午几点关门"]
BACKGROUND_QUESTION = "老板两个月没给我发工资了怎么办"
INPUTS = ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml")


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] if ordered else 0.0


def copy_project(root: Path, model: Path) -> None:
    for name in INPUTS:
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests" / "nlu", root / "tests" / "nlu",
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    (root / "models").mkdir()
    shutil.copy2(model, root / "models" / model.name)  # same fingerprint: the copy has the same inputs


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


def answered(settings: Settings, run: str) -> dict[str, tuple[bool, str]]:
    """For each paraphrase: whether the reply is the FAQ's answer, and the parsed intent."""
    results = {}
    for n, text in enumerate(PARAPHRASES):
        replies = say(settings, f"bench-check-{run}-{n}", text)
        parse = requests.post(f"{settings.rasa_url}/model/parse", params={"token": settings.rasa_token},
                              json={"text": text}, timeout=60).json()
        intent = parse.get("intent") or {}
        results[text] = (any(FAQ.answer[:20] in r for r in replies),
                         f"{intent.get('name')} {intent.get('confidence', 0):.2f}")
    return results


def say(settings: Settings, sender: str, text: str, timeout: float = 60) -> list[str]:
    response = requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", headers=REST_AUTH,
                             json={"sender": sender, "message": text}, timeout=timeout)
    response.raise_for_status()
    return [m.get("text") or "" for m in response.json()]


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
    parser.add_argument("--max-drop", type=float, default=None, help="default: PUBLISH_MAX_DROP (0.01)")
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--train-log", type=Path, help="keep rasa train's output here")
    args = parser.parse_args()
    model = project_model()
    with tempfile.TemporaryDirectory(prefix="niangjia-retrain-") as tmp:
        root = Path(tmp)
        copy_project(root, model)
        env = environment(root)
        settings = load_settings(env)
        proc = start_rasa(env, root / "rasa.log")
        try:
            before = answered(settings, "before")
            with Traffic(settings, args.interval) as traffic:
                max_drop = settings.publish_max_drop if args.max_drop is None else args.max_drop
                outcome = publish(settings, [FAQ], [], printer(), max_drop=max_drop)
            after = answered(settings, "after")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if args.train_log and (root / "var" / "publish" / "train.log").exists():
                shutil.copyfile(root / "var" / "publish" / "train.log", args.train_log)
        report(outcome, traffic, before, after, settings)


def report(outcome: PublishOutcome, traffic: Traffic, before: dict[str, tuple[bool, str]],
           after: dict[str, tuple[bool, str]], settings: Settings) -> None:
    s = outcome.seconds
    print(f"\noutcome: {outcome.stage}  model: {outcome.model.name if outcome.model else '-'}")
    print(f"training {s.get('training', 0):.1f} s, evaluation {s.get('evaluating', 0):.1f} s, "
          f"loading {s.get('loading', 0):.1f} s, whole publish {s.get('total', 0):.1f} s")
    if outcome.new and outcome.live:
        print(f"accuracy on tests/nlu: live {outcome.live.correct}/{outcome.live.total} "
              f"({outcome.live.accuracy:.1%}), new {outcome.new.correct}/{outcome.new.total} "
              f"({outcome.new.accuracy:.1%})")
    lat = traffic.latencies
    print(f"requests during publish: sent {traffic.sent}, failed {traffic.failures}, "
          f"p50 {_percentile(lat, 50) * 1000:.0f} ms, p95 {_percentile(lat, 95) * 1000:.0f} ms, "
          f"max {max(lat, default=0) * 1000:.0f} ms")
    for text in PARAPHRASES:
        print(f"paraphrase {text}: FAQ answer before {before[text][0]} ({before[text][1]}), "
              f"after {after[text][0]} ({after[text][1]})")
    print(f"staff file in the copy's data/: {(settings.project_root / 'data/staff/faq.yml').exists()}")


if __name__ == "__main__":
    main()
