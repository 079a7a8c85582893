"""Generate the Rasa training-data file that carries the topic answers.

Output (``data/generated/knowledge.yml``, not committed) holds one response
``utter_<id>_answer`` and one rule ``<id> intent -> answer`` per topic. Rasa merges
responses found in training data into the domain, so the answers exist only in
``data/knowledge/topics.yml``.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.calculate.kinds import ACTION_TOPICS
from bot.knowledge.topics import DEFAULT_PATH, Topic, load_topics, render_answer

DEFAULT_OUTPUT = PROJECT_ROOT / "data" / "generated" / "knowledge.yml"
HEADER = "# Generated from data/knowledge/topics.yml by `niangjia generate`. Do not edit.\n"


def build_training_data(topics: list[Topic]) -> dict:
    """Rasa 3.1 training data with the answer responses and their rules.

    Topics that can use the worker's numbers or region go to ``action_calculate``, which
    utters the same response when the message has none.
    """
    return {
        "version": "3.1",
        "responses": {t.response_name: [{"text": render_answer(t)}] for t in topics},
        "rules": [
            {
                "rule": f"answer {t.id}",
                "steps": [{"intent": t.id},
                          {"action": "action_calculate" if t.id in ACTION_TOPICS else t.response_name}],
            }
            for t in topics
        ],
    }


def write_training_data(
    source: Path = DEFAULT_PATH, output: Path = DEFAULT_OUTPUT
) -> Path:
    """Regenerate ``output`` from ``source``; only rewrite it when the content changed."""
    data = build_training_data(load_topics(source))
    text = HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not output.exists() or output.read_text(encoding="utf-8") != text:
        output.write_text(text, encoding="utf-8")
    return output
