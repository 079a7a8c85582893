"""Training and held-out data follow the NLU contract and never leak into each other."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path


from bot.nlu_data import load_nlu_examples
from bot.teaching.staff_data import domain_intents
from tests.conftest import ROOT, SHARED, needs_shared_eval, needs_shared_spec, spec_topics

TOPIC_IDS = [t["id"] for t in spec_topics()]
MIN_TRAINING_EXAMPLES = 40


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def _examples(path: Path) -> list[tuple[str, str]]:
    return [(intent, text) for text, intent in load_nlu_examples(path)]


# Staff-made examples and FAQs (data/staff/, written by the console) count as training data too.
TRAINING = [p for d in ("nlu", "staff") for f in sorted((ROOT / "data" / d).glob("*.yml")) for p in _examples(f)]
HELD_OUT = _examples(ROOT / "tests" / "nlu" / "test_set.yml")


@needs_shared_spec
def test_every_topic_is_a_domain_intent():
    assert set(TOPIC_IDS) <= domain_intents(ROOT / "domain.yml")


@needs_shared_spec
def test_every_topic_has_enough_varied_training_examples():
    counts = Counter(intent for intent, _ in TRAINING)
    thin = {t: counts[t] for t in TOPIC_IDS if counts[t] < MIN_TRAINING_EXAMPLES}
    assert not thin
    assert counts["out_of_scope"] >= 150


def test_training_examples_are_not_duplicated_across_intents():
    labels: dict[str, set[str]] = {}
    for intent, text in TRAINING:
        if _normalise(text):  # emoji-only examples normalise to nothing: not comparable
            labels.setdefault(_normalise(text), set()).add(intent)
    conflicts = {t: sorted(i) for t, i in labels.items() if len(i) > 1}
    assert not conflicts


@needs_shared_spec
def test_held_out_set_covers_every_topic_and_out_of_scope():
    counts = Counter(intent for intent, _ in HELD_OUT)
    assert all(counts[t] >= 8 for t in TOPIC_IDS), counts
    assert counts["out_of_scope"] >= 40


def test_no_held_out_sentence_is_in_training_data():
    training = {_normalise(text) for _, text in TRAINING}
    leaked = [text for _, text in HELD_OUT if _normalise(text) in training]
    assert not leaked


@needs_shared_eval
def test_no_real_evaluation_question_is_in_training_data():
    """../shared/eval is for measuring only; its wording must never be trained on."""
    eval_texts = set()
    for path in (SHARED / "eval").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                eval_texts.add(_normalise(json.loads(line)["text"]))
    training = [text for _, text in TRAINING + HELD_OUT]
    leaked = [t for t in training if len(_normalise(t)) >= 8 and _normalise(t) in eval_texts]
    # Also catch long overlaps (a copied clause inside a longer example).
    grams = {e[i:i + 20] for e in eval_texts for i in range(0, max(len(e) - 19, 0))}
    near = [t for t in training if any(_normalise(t)[i:i + 20] in grams
                                       for i in range(0, max(len(_normalise(t)) - 19, 0)))]
    assert not leaked and not near
