"""Fit the answer check's weights (``answer_weights``, ``answer_bias`` of the TfidfIntentClassifier
in config.yml) on cross-validated predictions of the training data.

The project's NLU training data (as ``rasa train`` reads it from data/) is split into five folds;
for each, the classifier of config.yml is trained on the other four and reads the fold's messages,
jieba-tokenised by the JiebaTokenizer of config.yml. Every message it would answer as a topic gives
one row: the answer check's evidence (bot.nlu.tfidf_classifier.EVIDENCE), and whether that topic is
the example's own; a logistic regression of right/wrong on the evidence gives the weights.
No evaluation set is read. Prints the weights to copy into config.yml and, for a few minimum
probabilities, the share of the held-out fold's topic answers that would be asked back and how many
of those were wrong.

    .venv/bin/python bench/calibrate.py          # about 8 minutes on 2 cores
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, quiet_rasa_logs  # noqa: E402

FOLDS = 5


def component_config(name: str) -> dict:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    [entry] = [dict(c) for c in pipeline if c["name"].endswith(name)]
    entry.pop("name")
    return entry


def tokenized_examples(storage_dir: Path) -> tuple[list[Any], Any]:
    """The project's NLU training examples (as ``rasa train`` reads data/), jieba-tokenised by the
    JiebaTokenizer of config.yml, and that tokenizer (for other messages)."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.constants import INTENT, TEXT

    from bot.training import write_training_data

    write_training_data()
    importer = TrainingDataImporter.load_from_config(str(ROOT / "config.yml"), str(ROOT / "domain.yml"),
                                                     [str(ROOT / "data")])
    data = importer.get_nlu_data()
    context = ExecutionContext(GraphSchema({}), "bench")
    tokenizer = JiebaTokenizer.create({**JiebaTokenizer.get_default_config(), **component_config("JiebaTokenizer")},
                                      LocalModelStorage(storage_dir), Resource("tokens"), context)
    tokenizer.process_training_data(data)
    return [e for e in data.intent_examples if e.get(INTENT) and e.get(TEXT)], tokenizer


def main() -> None:
    quiet_rasa_logs()
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import INTENT
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.tfidf_classifier import EVIDENCE, TfidfIntentClassifier

    started = time.monotonic()
    context = ExecutionContext(GraphSchema({}), "calibrate")
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        examples, _ = tokenized_examples(Path(tmp))
        labels = np.array([e.get(INTENT) for e in examples])
        config = {**TfidfIntentClassifier.get_default_config(), **component_config("TfidfIntentClassifier"),
                  "topics_file": str(ROOT / "data" / "knowledge" / "topics.yml")}
        rows, right = [], []
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
        for fold, (train, held) in enumerate(folds.split(np.zeros(len(labels)), labels)):
            classifier = TfidfIntentClassifier.create(config, storage, Resource(f"fold{fold}"), context)
            classifier.train(TrainingData([examples[i] for i in train]))
            for i, answer in zip(held, classifier.answer_evidence([examples[i] for i in held])):
                if answer is not None:
                    rows.append(answer[1])
                    right.append(answer[0] == labels[i])
            print(f"fold {fold + 1}/{FOLDS}: {time.monotonic() - started:.0f} s", flush=True)
    evidence, right = np.array(rows), np.array(right)
    fit = LogisticRegression(C=1.0, max_iter=1000).fit(evidence, right)
    weights = [round(float(w), 2) for w in fit.coef_[0]]
    print(f"{len(right)} topic answers of held-out folds, {right.mean():.1%} right")
    print(f"evidence {list(EVIDENCE)}")
    print(f"answer_weights: {weights}\nanswer_bias: {round(float(fit.intercept_[0]), 2)}")
    probability = fit.predict_proba(evidence)[:, 1]
    for minimum in (0.5, 0.6, 0.7, 0.72, 0.8):
        asked = probability < minimum
        print(f"min probability {minimum:.2f}: asked back {asked.mean():5.1%}, of the wrong answers caught "
              f"{(asked & ~right).sum() / max((~right).sum(), 1):5.1%}")


if __name__ == "__main__":
    main()
