"""Read examples from Rasa NLU YAML files (training data and the held-out test set)."""
from __future__ import annotations

from pathlib import Path

import yaml


def load_nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of one Rasa 3.x NLU YAML file, in file order.

    Read with plain YAML rather than Rasa's loader: benchmarks and data tests need only
    text and label, and this stays fast and free of TensorFlow imports.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    pairs = []
    for block in data.get("nlu", []):
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            text = line.strip()
            if text.startswith("- "):
                pairs.append((text[2:].strip(), block["intent"]))
    return pairs
