"""Topic accuracy of a trained model on held-out NLU test files.

Run in a subprocess (``python -m bot.teaching.evaluate MODEL FILES...`` prints JSON) so
TensorFlow's memory never lives in the web process; :func:`evaluate_in_subprocess` does
that. A model's result is cached beside it (``<model>.eval.json``, keyed by a hash of the
test files and the model file), so the live model is measured only once.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.nlu_data import load_nlu_examples
from bot.teaching.trainer import NICENESS

logger = logging.getLogger(__name__)

REJECTED = {"nlu_fallback", "out_of_scope"}
OUT_OF_SCOPE = "out_of_scope"
CACHE_SUFFIX = ".eval.json"
# Bump when the scoring rule changes, so cached results are not reused.
SCORING_VERSION = "2"


@dataclass(frozen=True)
class EvalResult:
    correct: int
    total: int
    accuracy: float
    # Of the correct: questions of a topic the staff FAQs refine (union services) that a staff FAQ
    # answered (bot/nlu/faq_match.py): the FAQ is the union's own, more specific answer.
    refined: int = 0


class EvaluationFailed(RuntimeError):
    """The evaluation subprocess failed or printed no result."""


def topic_of(parse: dict[str, Any]) -> str:
    """A parse's topic by the NLU contract: intent ``<id>``, or ``faq/<id>`` via the selector.

    Reads the ``faq`` selector and falls back to ``default`` (one ResponseSelector for all
    retrieval intents, as config.yml has now). Rejections count as ``out_of_scope``.
    """
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    if intent in REJECTED:
        return OUT_OF_SCOPE
    if intent != "faq":
        return intent
    key = _selected_key(parse)
    return key.split("/", 1)[1] if key.startswith("faq/") else key


def _selected_key(parse: dict[str, Any]) -> str:
    selectors = parse.get("response_selector") or {}
    selected = (selectors.get("faq") or selectors.get("default") or {}).get("response", {})
    return selected.get("intent_response_key") or "faq"


def _staff_faq(parse: dict[str, Any]) -> str | None:
    """The slug of the staff FAQ (``faq/<slug>``) a parse answers with, else None."""
    if (parse.get("intent") or {}).get("name") != "faq" or not _selected_key(parse).startswith("faq/"):
        return None
    return topic_of(parse)


def label_topic(intent: str) -> str:
    """The topic a test example is labelled with (``faq/<id>`` → ``<id>``, ``chitchat/x`` → chitchat)."""
    base, _, sub = intent.partition("/")
    return sub if base == "faq" and sub else base


def score(pairs: list[tuple[str, str]], staff_faqs: frozenset[str] = frozenset(),
          refines: frozenset[str] = frozenset()) -> EvalResult:
    """(label, predicted topic) pairs → accuracy; labels normalised by :func:`label_topic`.

    A question labelled with a topic in ``refines`` that got a staff FAQ (a slug in
    ``staff_faqs``) counts as right and as ``refined``: staff FAQs refine those topics.
    """
    right = refined = 0
    for label, predicted in pairs:
        if label_topic(label) == predicted:
            right += 1
        elif label in refines and predicted in staff_faqs:
            refined += 1
    correct, total = right + refined, len(pairs)
    return EvalResult(correct, total, correct / total if total else 0.0, refined)


def refined_topics(agent: Any) -> frozenset[str]:
    """The topics the loaded model's FaqMatcher lets staff FAQs refine (its ``refines``)."""
    from bot.nlu.faq_match import FaqMatcher  # imports Rasa: only where a model is loaded anyway

    for node in agent.processor.model_metadata.predict_schema.nodes.values():
        if issubclass(node.uses, FaqMatcher):
            return frozenset({**node.uses.get_default_config(), **node.config}.get("refines") or ())
    return frozenset()


def cache_key(model_path: Path, test_files: list[Path]) -> str:
    digest = hashlib.sha256(SCORING_VERSION.encode())
    stat = Path(model_path).stat()
    digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    for path in sorted(Path(p) for p in test_files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_path(model_path: Path) -> Path:
    return Path(model_path).with_name(Path(model_path).name + CACHE_SUFFIX)


def cached_result(model_path: Path, test_files: list[Path]) -> EvalResult | None:
    path = cache_path(model_path)
    try:
        entry = json.loads(path.read_text(encoding="utf-8")).get(cache_key(model_path, test_files))
        return EvalResult(**entry) if entry else None
    except (OSError, ValueError, TypeError):
        return None


def _store_result(model_path: Path, test_files: list[Path], result: EvalResult) -> None:
    path = cache_path(model_path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = {}
    entries[cache_key(model_path, test_files)] = asdict(result)
    path.write_text(json.dumps(entries, indent=1), encoding="utf-8")


def prune_orphan_caches(models_dir: Path) -> None:
    """Remove cached results of models that no longer exist (training prunes models)."""
    for path in Path(models_dir).glob(f"*{CACHE_SUFFIX}"):
        if not path.with_name(path.name.removesuffix(CACHE_SUFFIX)).exists():
            path.unlink(missing_ok=True)


def evaluate_model(model_path: Path, test_files: list[Path]) -> EvalResult:
    """Load ``model_path`` with Rasa in this process and score every test example.

    Imports TensorFlow: call it through :func:`evaluate_in_subprocess` from long-lived
    processes. Uses and fills the cache beside the model.
    """
    cached = cached_result(model_path, test_files)
    if cached is not None:
        return cached
    from rasa.core.agent import Agent

    examples = [pair for path in test_files for pair in load_nlu_examples(Path(path))]
    agent = Agent.load(str(model_path))

    async def parse_all() -> list[tuple[str, dict[str, Any]]]:
        return [(label, await agent.parse_message(text)) for text, label in examples]

    parsed = asyncio.run(parse_all())
    staff_faqs = frozenset(_staff_faq(parse) for _, parse in parsed) - {None}
    result = score([(label, topic_of(parse)) for label, parse in parsed], staff_faqs, refined_topics(agent))
    _store_result(model_path, test_files, result)
    logger.info("evaluated %s: %d/%d", Path(model_path).name, result.correct, result.total)
    return result


def evaluate_in_subprocess(model_path: Path, test_files: list[Path],
                           timeout: float = 900.0) -> EvalResult:
    """:func:`evaluate_model` in a child Python; the cache is read here first (no TF import)."""
    cached = cached_result(model_path, test_files)
    if cached is not None:
        return cached
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    command = [sys.executable, "-m", "bot.teaching.evaluate", str(model_path),
               *(str(p) for p in test_files)]
    # A batch job, like training: the live server's answers come first.
    nice = shutil.which("nice")
    command = [nice, "-n", NICENESS, *command] if nice else command
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    result = _last_result(done.stdout) if done.returncode == 0 else None
    if result is None:
        logger.error("evaluation of %s failed (exit %s): %s", Path(model_path).name,
                     done.returncode, done.stderr[-2000:])
        raise EvaluationFailed(f"evaluation exited with {done.returncode}")
    return result


def _last_result(stdout: str) -> EvalResult | None:
    """The JSON result line :func:`main` prints last (Rasa may log to stdout before it)."""
    for line in reversed(stdout.splitlines()):
        try:
            return EvalResult(**json.loads(line))
        except (ValueError, TypeError):
            continue
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m bot.teaching.evaluate MODEL TEST_FILE...", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = evaluate_model(Path(args[0]), [Path(p) for p in args[1:]])
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
