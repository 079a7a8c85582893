"""Compare settings of the intent classifier (TfidfIntentClassifier) before changing config.yml.

For each variant (options of the classifier over config.yml's, as a Python dict literal) prints the
first-ranked intent's accuracy in k-fold cross-validation on the training data (all examples, and
its stories alone: no evaluation set is read), then for one fit on all the data
the first-ranked intent on the held-out tests/nlu/test_set.yml (all of it: topics, out of scope, small
talk) and on the real questions of ../shared/eval (their in-scope topics; measured only, never
trained on). The classifier is the project's component, trained as `rasa train` trains it (both of
its regressions, jieba tokens); a story is what its ``long_min_chars`` says (40).

    .venv/bin/python bench/intent_variants.py "{}" "{'long_weight': 1.0}"   # ~10 min a variant on 2 cores
"""
from __future__ import annotations

import argparse
import ast
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, TOPIC_IDS, load_nlu_examples, load_real_questions, quiet_rasa_logs  # noqa: E402
from bench.calibrate import component_config, tokenized_examples  # noqa: E402

def first_ranked(classifier, messages) -> list[str]:
    """The base name of each message's first-ranked intent (``faq/x`` → ``faq``); the messages are
    read as copies (processing sets the intent, and training examples keep their labels)."""
    from rasa.shared.nlu.training_data.message import Message

    copies = [Message(data=dict(m.data)) for m in messages]
    return [str(m.get("intent_ranking")[0]["name"]).split("/")[0] for m in classifier.process(copies)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="classifier options over config.yml's, e.g. \"{'C': 10}\"")
    parser.add_argument("--folds", type=int, default=4)
    args = parser.parse_args()
    quiet_rasa_logs()
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.tfidf_classifier import TfidfIntentClassifier

    context = ExecutionContext(GraphSchema({}), "variants")
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        examples, tokenizer = tokenized_examples(Path(tmp))
        labels = np.array([str(e.get(INTENT)).split("/")[0] for e in examples])

        def tokenized(rows: list[tuple[str, str]]) -> tuple[list[Message], list[str]]:
            messages = [Message(data={TEXT: text}) for text, _ in rows]
            tokenizer.process(messages)
            return messages, [label for _, label in rows]

        held = tokenized(load_nlu_examples(ROOT / "tests" / "nlu" / "test_set.yml"))
        try:
            real = tokenized([(t, label) for t, label in load_real_questions() if label in TOPIC_IDS])
        except FileNotFoundError:
            real = None
        base = {**TfidfIntentClassifier.get_default_config(), **component_config("TfidfIntentClassifier"),
                "topics_file": str(ROOT / "data" / "knowledge" / "topics.yml")}
        stories = np.array([len(e.get(TEXT)) >= int(base["long_min_chars"]) for e in examples])
        for number, text in enumerate(args.variants):
            started = time.monotonic()
            config = {**base, **ast.literal_eval(text)}

            def fitted(indices: np.ndarray, name: str) -> TfidfIntentClassifier:
                classifier = TfidfIntentClassifier.create(config, storage, Resource(f"v{number}{name}"), context)
                classifier.train(TrainingData([examples[i] for i in indices]))
                return classifier

            right = np.zeros(len(examples), dtype=bool)
            folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
            for fold, (train, test) in enumerate(folds.split(np.zeros(len(labels)), labels)):
                predicted = first_ranked(fitted(train, f"f{fold}"), [examples[i] for i in test])
                right[test] = np.array(predicted) == labels[test]
            classifier = fitted(np.arange(len(examples)), "all")
            line = f"{text}: CV {right.mean():.2%}, stories {right[stories].mean():.2%}"
            for name, rows in (("held-out", held), ("real", real)):
                if rows is None:
                    line += f" | {name}: ../shared/eval not found"
                    continue
                hits = sum(p == label.split("/")[0] for p, label in zip(first_ranked(classifier, rows[0]), rows[1]))
                line += f" | {name} first-ranked {hits}/{len(rows[1])} ({hits / len(rows[1]):.1%})"
            print(f"{line} | {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
