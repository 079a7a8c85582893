"""Topic signal words (data/knowledge/signals.yml): which rights topics a message names outright.

Used where the model's intent is an action, not a topic ("我要投诉老板不给加班费" is a complaint
whose topic is overtime_pay): the complaint form and the handoff take the topic from them; for a
second topic in one message, offered after the answer of the first (bot/nlu/also_mentioned.py);
and for a story that raises several problems at once, all of them listed (actions/clarify.py).
A form may hold a gap, "…": a few characters within one clause ("工资…没发" is also 工资也没发).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from bot.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "data" / "knowledge" / "signals.yml"
# The entity naming a second topic of the message (bot/nlu/also_mentioned.py, action_also_mentioned).
ALSO_ENTITY = "also_topic"
GAP = "…"
# What a gap stands for: up to three characters, not across a clause.
_GAP_PATTERN = r"[^，。！？；、,.!?;\s]{0,3}"
# A message that raises this many topics (its own and the others named) raises "several problems":
# every one is listed, not only the second.
SEVERAL = 3
# A named topic counts only when the model ranks it among its best ``SEVERAL_WITHIN`` topics (a word
# in passing, "社保倒是交了", usually is not); at most ``MAX_OTHERS`` others are listed.
SEVERAL_WITHIN = 5
MAX_OTHERS = 4


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
        positions = [match.start() for match in (_pattern(form).search(text) for form in forms) if match]
        if positions:
            found[topic] = min(positions)
    return sorted(found, key=found.__getitem__)


@lru_cache(maxsize=None)
def _pattern(form: str) -> re.Pattern[str]:
    return re.compile(_GAP_PATTERN.join(re.escape(part) for part in form.upper().split(GAP)))


def _ranked_topics(ranking: Iterable[Mapping[str, Any]], signals: Mapping[str, Any], within: int) -> list[str]:
    return [entry.get("name") for entry in ranking if entry.get("name") in signals][:within]


def second_topic(intent: str | None, ranking: Iterable[Mapping[str, Any]], text: str,
                 signals: dict[str, tuple[str, ...]] | None = None, within: int = 3) -> str | None:
    """Another topic the message raises beside the one answered ("未签合同又不交社保"): named by
    its signal words and among the model's ``within`` best-ranked topics, so that a word in
    passing is not offered. None when the intent is not a topic."""
    signals = load_signals() if signals is None else signals
    if intent not in signals:
        return None
    close = _ranked_topics(ranking, signals, within)
    return next((t for t in mentioned_topics(text, signals) if t != intent and t in close), None)


def raised_topics(intent: str | None, ranking: Iterable[Mapping[str, Any]], text: str,
                  signals: dict[str, tuple[str, ...]] | None = None, within: int = SEVERAL_WITHIN) -> list[str]:
    """The topics a message raises: the one it is answered as (when a topic), then those its signal
    words name that the model also ranks among its ``within`` best topics, in the order written."""
    signals = load_signals() if signals is None else signals
    close = _ranked_topics(ranking, signals, within)
    named = [t for t in mentioned_topics(text, signals) if t in close]
    return list(dict.fromkeys([intent, *named] if intent in signals else named))


def other_topics(intent: str | None, ranking: Iterable[Mapping[str, Any]], text: str,
                 signals: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The topics to offer after the answer of ``intent``: when the message raises several
    (:func:`raised_topics`: ``SEVERAL`` or more) all the others, else the second topic named."""
    signals = load_signals() if signals is None else signals
    if intent not in signals:
        return []
    ranking = list(ranking)
    raised = raised_topics(intent, ranking, text, signals)
    if len(raised) >= SEVERAL:
        return raised[1:MAX_OTHERS + 1]
    second = second_topic(intent, ranking, text, signals)
    return [second] if second else []
