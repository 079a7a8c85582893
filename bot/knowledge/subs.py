"""Sub-question answers of the rights topics: ``data/knowledge/subs/<topic>.yml``.

A topic's one card answers "what are my rights on X"; workers ask a specific question within it
("没买工伤保险谁来赔", "辞职后工资什么时候结"). Each sub-answer states its rule first, cites the
article and says what to do next; its training questions teach the bot to tell it from the topic's
other sub-answers (bot.nlu.sub_selector). Rasa responses are generated from these files
(bot.knowledge.generate): the topic's response gets one variation per sub-answer, chosen by the
``sub`` slot, and the topic's own card stays the overview, with the sub-answers as buttons.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.knowledge.topics import KnowledgeError, format_citation

DEFAULT_DIR = PROJECT_ROOT / "data" / "knowledge" / "subs"
# The sub slot's value when the message names the topic but none of its sub-questions.
OVERVIEW = "overview"
SUB_ENTITY = "sub"
# On a message the model could not place (an ask-back follows): the sub-answer each of its best topics
# would give, "<topic>/<sub>", so the ask-back's buttons answer the worker's own question at once.
SUB_GUESS_ENTITY = "sub_guess"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# "劳动合同法 第82条"; a notice without articles by its name alone
_CITATION = re.compile(r"^\S+( 第[0-9一二三四五六七八九十百]+条\S*)?$")
MAX_TITLE_CHARS = 10
MAX_ANSWER_CHARS = 200


@dataclass(frozen=True)
class Sub:
    topic: str
    id: str
    title: str
    answer: str
    basis: tuple[str, ...]
    next_step: str
    must_say: tuple[str, ...]
    questions: tuple[str, ...]

    @property
    def key(self) -> str:
        """``<topic>/<sub>``: the retrieval-style name analytics and the evaluation read."""
        return f"{self.topic}/{self.id}"


def sub_tag(topic_id: str, sub_id: str) -> dict[str, str]:
    """The custom payload of a sub-answer (the topic's tag plus the sub-answer's id)."""
    return {"topic": topic_id, "sub": sub_id}


def sub_payload(topic_id: str, sub_id: str) -> str:
    """A button that asks for one sub-answer: the topic's intent with the sub entity."""
    return f'/{topic_id}{{"{SUB_ENTITY}": "{sub_id}"}}'


def render_sub(sub: Sub, topic_title: str) -> str:
    """Conclusion first, then the basis and what to do next."""
    citations = "；".join(format_citation(b) for b in sub.basis)
    return f"【{topic_title}·{sub.title}】\n{sub.answer}\n依据：{citations}\n下一步：{sub.next_step}"


def load_subs(directory: Path = DEFAULT_DIR, topic_ids: frozenset[str] | None = None) -> dict[str, list[Sub]]:
    """Every topic's sub-answers, by topic id, in file order; raises KnowledgeError on a bad file."""
    found: dict[str, list[Sub]] = {}
    for path in sorted(Path(directory).glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        topic = raw.get("topic")
        if not isinstance(topic, str) or path.stem != topic:
            raise KnowledgeError(f"{path.name}: 'topic' must be the file's name")
        if topic_ids is not None and topic not in topic_ids:
            raise KnowledgeError(f"{path.name}: unknown topic {topic!r}")
        subs = [_parse(topic, entry, f"{path.name} #{n + 1}") for n, entry in enumerate(raw.get("subs") or [])]
        ids = [s.id for s in subs]
        if len(set(ids)) != len(ids) or OVERVIEW in ids:
            raise KnowledgeError(f"{path.name}: sub ids must be unique and not {OVERVIEW!r}")
        found[topic] = subs
    return found


# General questions on a topic, in workers' words, that the topic's own card answers.
OVERVIEW_FILE = "overview_questions.yml"


def load_overview_questions(path: Path, topic_ids: frozenset[str] | None = None) -> dict[str, tuple[str, ...]]:
    """The general questions of ``path`` by topic id (none when the file is absent); raises
    KnowledgeError on an unknown topic or anything but a list of texts."""
    if not Path(path).exists():
        return {}
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{Path(path).name}: must map topic ids to questions")
    found: dict[str, tuple[str, ...]] = {}
    for topic, questions in raw.items():
        if topic_ids is not None and topic not in topic_ids:
            raise KnowledgeError(f"{Path(path).name}: unknown topic {topic!r}")
        if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
            raise KnowledgeError(f"{Path(path).name}: {topic}: must be a list of texts")
        found[str(topic)] = tuple(q.strip() for q in questions)
    return found


@lru_cache(maxsize=1)
def all_subs() -> dict[str, list[Sub]]:
    return load_subs()


def _parse(topic: str, entry: object, where: str) -> Sub:
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{where}: must be a mapping")

    def text(field: str) -> str:
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            raise KnowledgeError(f"{where}: {field!r} must be non-empty text")
        return value.strip()

    def texts(field: str) -> tuple[str, ...]:
        value = entry.get(field)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise KnowledgeError(f"{where}: {field!r} must be a non-empty list of texts")
        return tuple(v.strip() for v in value)

    sub = Sub(topic=topic, id=text("id"), title=text("title"), answer=text("answer"), basis=texts("basis"),
              next_step=text("next"), must_say=texts("must_say"), questions=texts("questions"))
    if not _ID.match(sub.id):
        raise KnowledgeError(f"{where}: id {sub.id!r} must be lower-case ascii")
    if len(sub.title) > MAX_TITLE_CHARS:
        raise KnowledgeError(f"{where}: title {sub.title!r} longer than {MAX_TITLE_CHARS} characters")
    if len(sub.answer) > MAX_ANSWER_CHARS:
        raise KnowledgeError(f"{where}: answer longer than {MAX_ANSWER_CHARS} characters")
    missing = [m for m in sub.must_say if m not in sub.answer]
    if missing:
        raise KnowledgeError(f"{where}: must_say not in the answer: {missing}")
    bad = [b for b in sub.basis if not _CITATION.match(b)]
    if bad:
        raise KnowledgeError(f"{where}: citations must read '法规 第N条' or '法规': {bad}")
    return sub
