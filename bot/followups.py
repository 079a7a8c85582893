"""Follow-ups on the topic just answered ("那能赔多少？", "那我该怎么办？", "要是公司不同意呢").

The topic is the one the bot last answered: every answer of a topic carries ``{"topic": id}``
in its custom payload (generated responses, calculations, follow-ups), so the conversation's
own events say what the worker was talking about, whatever path answered it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from bot.calculate.kinds import Kind
from bot.config import PROJECT_ROOT
from bot.knowledge.signals import mentioned_topics

CUES_PATH = PROJECT_ROOT / "data" / "knowledge" / "followups.yml"
# 工伤保险条例: an occupational disease is handled as a work injury (its amounts are the same).
INJURY_TOPICS = frozenset({"work_injury", "occupational_disease"})
# Calculations whose result is money: "能拿多少" after their topic starts (or redoes) them.
AMOUNT_KINDS = frozenset({Kind.ECONOMIC_COMPENSATION, Kind.DOUBLE_WAGES, Kind.OVERTIME_PAY})


FOLLOWUP_INTENTS = frozenset({"ask_amount", "ask_next_steps", "ask_what_if"})
# Follow-ups that may name their own topic ("那被辞退了能赔多少" after a wage answer). "那要是…呢"
# does not: "那要是工伤呢" after a dismissal answer still asks about the dismissal.
NAMING_INTENTS = frozenset({"ask_amount", "ask_next_steps"})
# A message this short right after an answer, with that answer's topic among the model's three
# best-ranked topics, is taken as a follow-up on it rather than asked back.
SHORT_FOLLOWUP_CHARS = 30


def ranked_intents(parse: Mapping[str, Any]) -> list[str]:
    """The model's intents, best first, without the fallback that gave up on them."""
    return [e.get("name") for e in parse.get("intent_ranking") or [] if e.get("name") != "nlu_fallback"]


def followup_intent(parse: Mapping[str, Any], topic: str | None = None) -> str | None:
    """The follow-up a parse is: its intent, or the best-ranked intent when the model was unsure; or,
    when the model was unsure between ``topic`` (the one just answered) and a follow-up on it
    ("这种伤一般能给多少钱": work_injury, then ask_amount), that follow-up."""
    name = (parse.get("intent") or {}).get("name")
    if name in FOLLOWUP_INTENTS:
        return name
    ranked = ranked_intents(parse)
    if ranked and ranked[0] in FOLLOWUP_INTENTS:
        return ranked[0]
    if topic is not None and len(ranked) > 1 and ranked[0] == topic and ranked[1] in FOLLOWUP_INTENTS:
        return ranked[1]
    return None


def named_topic(parse: Mapping[str, Any]) -> str | None:
    """The one topic a "how much" or "what now" message names by its signal words
    (data/knowledge/signals.yml): "那被辞退了能赔多少" is about dismissal whatever was answered before
    it, and "被辞退了能赔多少钱" needs no earlier answer. None when it names none, or several."""
    if followup_intent(parse) not in NAMING_INTENTS:
        return None
    named = mentioned_topics(parse.get("text") or "")
    return named[0] if len(named) == 1 else None


def continues_topic(parse: Mapping[str, Any], topic: str | None, cues: Cues) -> bool:
    """An unsure message that reads as a follow-up on ``topic`` (the one just answered): elliptical
    ("那这种情况呢"), a follow-up intent the model ranked first, a place or a number for it, or a
    short message with that topic among the three best-ranked topics."""
    if topic is None:
        return False
    text = (parse.get("text") or "").strip()
    if cues.elliptical(text) or cues.asks_next_steps(text) or followup_intent(parse):
        return True
    if len(text) > SHORT_FOLLOWUP_CHARS:
        return False
    if any(e.get("entity") in ("region", "duration", "money") for e in parse.get("entities") or []):
        return True
    ranked = ranked_intents(parse)
    return topic in ranked[:3]


def last_topic(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The topic of the bot's latest tagged message in ``events`` (Rasa's event dicts), if any."""
    for event in reversed(list(events)):
        if event.get("event") == "bot":
            topic = ((event.get("data") or {}).get("custom") or {}).get("topic")
            if topic:
                return str(topic)
    return None


@dataclass(frozen=True)
class Cues:
    max_chars: int
    words: tuple[str, ...]
    next_steps: tuple[str, ...] = ()

    def elliptical(self, text: str) -> bool:
        """A short message that reads as "and what about …" ("那这种情况呢")."""
        return self._short_with(text, self.words)

    def asks_next_steps(self, text: str) -> bool:
        """A short message that asks how to go on ("那现在咋整", "第一步找谁")."""
        return self._short_with(text, self.next_steps)

    def _short_with(self, text: str, words: tuple[str, ...]) -> bool:
        text = text.strip()
        return 0 < len(text) <= self.max_chars and any(w in text for w in words)


@lru_cache(maxsize=1)
def load_cues(path: Path = CUES_PATH) -> Cues:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return Cues(max_chars=int(raw["max_chars"]), words=tuple(str(w) for w in raw["cues"]),
                next_steps=tuple(str(w) for w in raw.get("next_step_cues") or ()))
