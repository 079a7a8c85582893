"""Generate the Rasa training-data file that carries the topic answers.

Output (``data/generated/knowledge.yml``, not committed) holds one response
``utter_<id>_answer`` (tagged ``{"topic": id}`` in its custom payload) and its rules per topic
(``<id> intent -> answer``, and the same with a second topic named, offered after the answer).
Rasa merges responses found in training data into the domain, so the answers exist only in
``data/knowledge/topics.yml``.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.calculate.kinds import ACTION_TOPICS
from bot.knowledge.signals import ALSO_ENTITY
from bot.knowledge.topics import DEFAULT_PATH, Topic, load_topics, render_answer, topic_tag

DEFAULT_OUTPUT = PROJECT_ROOT / "data" / "generated" / "knowledge.yml"
HEADER = "# Generated from data/knowledge/topics.yml by `niangjia generate`. Do not edit.\n"


def build_training_data(topics: list[Topic]) -> dict:
    """Rasa 3.1 training data with the answer responses and their rules.

    Topics that can use the worker's numbers or region go to ``action_calculate``, which
    utters the same response when the message has none.
    """
    return {
        "version": "3.1",
        # The topic tag rides in Rasa's ``custom``: integrations read it, the channels show only text.
        "responses": {t.response_name: [{"text": render_answer(t), "custom": topic_tag(t.id)}] for t in topics},
        "rules": [rule for t in topics for rule in _answer_rules(t)],
    }


def _answer_rules(topic: Topic) -> list[dict]:
    """The topic's answer; when the message named a second topic too, that one offered after it."""
    answer = {"action": "action_calculate" if topic.id in ACTION_TOPICS else topic.response_name}
    return [
        {"rule": f"answer {topic.id}", "steps": [{"intent": topic.id}, answer]},
        {"rule": f"answer {topic.id}, offer the other topic named",
         "steps": [{"intent": topic.id, "entities": [ALSO_ENTITY]}, answer, {"action": "action_also_mentioned"}]},
    ]


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
