"""Topic signal words (data/knowledge/signals.yml): which rights topics a message names outright.

Used where the model's intent is an action, not a topic ("我要投诉老板不给加班费" is a complaint
whose topic is overtime_pay): the complaint form and the handoff take the topic from them; and
for a second topic in one message, offered after the answer of the first (bot/nlu/also_mentioned.py).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from bot.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "data" / "knowledge" / "signals.yml"
# The entity naming a second topic of the message (bot/nlu/also_mentioned.py, action_also_mentioned).
ALSO_ENTITY = "also_topic"


@lru_cache(maxsize=4)
def load_signals(path: Path = DEFAULT_PATH) -> dict[str, tuple[str, ...]]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    topics = raw.get("topics")
    if not isinstance(topics, dict):
        raise ValueError(f"{path}: expected a 'topics' mapping")
    return {str(topic): tuple(str(form) for form in forms) for topic, forms in topics.items()}


def mentioned_topics(text: str, signals: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The topics whose signal words ``text`` contains, in the order they first appear."""
    signals = load_signals() if signals is None else signals
    text = (text or "").upper()
    found: dict[str, int] = {}
    for topic, forms in signals.items():
        positions = [text.find(form.upper()) for form in forms]
        positions = [p for p in positions if p >= 0]
        if positions:
            found[topic] = min(positions)
    return sorted(found, key=found.__getitem__)


def second_topic(intent: str | None, ranking: Iterable[Mapping[str, Any]], text: str,
                 signals: dict[str, tuple[str, ...]] | None = None, within: int = 3) -> str | None:
    """Another topic the message raises beside the one answered ("未签合同又不交社保"): named by
    its signal words and among the model's ``within`` best-ranked topics, so that a word in
    passing is not offered. None when the intent is not a topic."""
    signals = load_signals() if signals is None else signals
    if intent not in signals:
        return None
    close = [entry.get("name") for entry in ranking if entry.get("name") in signals][:within]
    return next((t for t in mentioned_topics(text, signals) if t != intent and t in close), None)
