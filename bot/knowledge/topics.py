"""Load the rights topics from ``data/knowledge/topics.yml`` and render their answers.

The knowledge file is the single source of every topic answer; Rasa responses are
generated from it (:mod:`bot.knowledge.generate`), never written by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "data" / "knowledge" / "topics.yml"


class KnowledgeError(ValueError):
    """The knowledge file is malformed; the message names the topic and field."""


@dataclass(frozen=True)
class Fact:
    text: str
    must_say: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    answer: str
    basis: tuple[str, ...]
    next_step: str
    facts: tuple[Fact, ...]

    @property
    def response_name(self) -> str:
        return f"utter_{self.id}_answer"


def topic_tag(topic_id: str) -> dict[str, str]:
    """The custom payload every answer of a topic carries: integrations and analytics read it,
    the channels show only the text."""
    return {"topic": topic_id}


def load_topics(path: Path = DEFAULT_PATH) -> list[Topic]:
    """Parse and validate the knowledge file; raise :class:`KnowledgeError` on bad data."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("topics"), list):
        raise KnowledgeError(f"{path}: expected a mapping with a 'topics' list")
    topics = [_parse_topic(entry, index) for index, entry in enumerate(raw["topics"])]
    ids = [t.id for t in topics]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise KnowledgeError(f"duplicate topic ids: {', '.join(duplicates)}")
    return topics


def _parse_topic(entry: object, index: int) -> Topic:
    if not isinstance(entry, dict):
        raise KnowledgeError(f"topic #{index}: expected a mapping")
    topic_id = str(entry.get("id") or "").strip()
    where = f"topic {topic_id or '#' + str(index)}"
    if not topic_id.isidentifier():
        raise KnowledgeError(f"{where}: 'id' must be a snake_case identifier")
    for key in ("title", "answer", "next"):
        if not str(entry.get(key) or "").strip():
            raise KnowledgeError(f"{where}: missing '{key}'")
    basis = entry.get("basis") or []
    if not basis or not all(isinstance(b, str) and b.strip() for b in basis):
        raise KnowledgeError(f"{where}: 'basis' must be a non-empty list of citations")
    facts = tuple(
        Fact(text=str(f.get("fact", "")), must_say=tuple(str(s) for s in f.get("must_say") or ()))
        for f in entry.get("facts") or ()
    )
    return Topic(
        id=topic_id,
        title=str(entry["title"]).strip(),
        answer=str(entry["answer"]).strip(),
        basis=tuple(b.strip() for b in basis),
        next_step=str(entry["next"]).strip(),
        facts=facts,
    )


def format_citation(basis: str) -> str:
    """``劳动法 第50条`` -> ``《劳动法》第50条``; nested title marks become 〈〉."""
    name, _, article = basis.strip().partition(" ")
    name = name.replace("《", "〈").replace("》", "〉")
    return f"《{name}》{article.strip()}"


def render_answer(topic: Topic) -> str:
    """The text a worker sees: the answer, its legal basis, then what to do next."""
    citations = "；".join(format_citation(b) for b in topic.basis)
    return f"【{topic.title}】\n{topic.answer}\n依据：{citations}\n下一步：{topic.next_step}"
