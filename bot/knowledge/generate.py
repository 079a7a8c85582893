"""Generate the Rasa training-data file that carries the topic answers.

Output (``data/generated/knowledge.yml``, not committed) holds one response
``utter_<id>_answer`` (tagged ``{"topic": id}`` in its custom payload) and its rules per topic
(``<id> intent -> answer``, and the same with a second topic named, offered after the answer).
A topic with sub-answers (``data/knowledge/subs/<id>.yml``) gets one variation of its response per
sub-answer, chosen by the ``sub`` slot (tagged ``{"topic": id, "sub": sub-id}``); its own card
stays the overview (``sub`` = ``overview``), with the sub-answers as buttons. Like a calculation's
working, a card's statutes (its "依据：" line) travel in the custom payload (``details``), folded behind
"查看依据" on the web chat and sent when a WeChat user replies 依据; the text keeps the answer and the
next step, short enough for a phone screen. The sub-answers'
questions become NLU examples of the topic's intent, the sub-answer's id in the block's metadata
(bot.nlu.sub_selector). Rasa merges responses found in training data into the domain, so the
answers exist only in ``data/knowledge/``.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.calculate.kinds import ACTION_TOPICS
from bot.knowledge.calc import Rendered, load_templates
from bot.knowledge.signals import ALSO_ENTITY
from bot.knowledge.subs import (
    OVERVIEW, OVERVIEW_FILE, SUB_ENTITY, Sub, load_overview_questions, load_subs, render_sub, sub_payload, sub_tag,
)
from bot.knowledge.topics import DEFAULT_PATH, Topic, load_topics, render_answer, topic_tag

DEFAULT_OUTPUT = PROJECT_ROOT / "data" / "generated" / "knowledge.yml"
# The overview offers the first sub-answers as buttons (the files list the most asked first); the
# others are reached by asking.
MAX_SUB_BUTTONS = 6
HEADER = "# Generated from data/knowledge/topics.yml by `niangjia generate`. Do not edit.\n"


def build_training_data(topics: list[Topic], subs: dict[str, list[Sub]] | None = None,
                        overviews: dict[str, tuple[str, ...]] | None = None) -> dict:
    """Rasa 3.1 training data with the answer responses, their rules and the sub-answers' questions
    (with ``overviews``, general questions on a topic, among its overview questions).

    Topics that can use the worker's numbers or region go to ``action_calculate``, which
    utters the same response when the message has none.
    """
    subs, overviews = subs or {}, overviews or {}
    data: dict = {"version": "3.1"}
    nlu = [{"intent": t.id, "metadata": {SUB_ENTITY: sub.id}, "examples": _lines(_examples(sub))}
           for t in topics for sub in subs.get(t.id, [])]
    nlu += [{"intent": t.id, "metadata": {SUB_ENTITY: OVERVIEW},
             "examples": _lines(list(dict.fromkeys([*overview_questions(t), *overviews.get(t.id, ())])))}
            for t in topics if subs.get(t.id)]
    if nlu:
        data["nlu"] = nlu
    # The topic tag rides in Rasa's ``custom``: integrations read it, the channels show only text.
    data["responses"] = {t.response_name: _variations(t, subs.get(t.id, [])) for t in topics}
    data["rules"] = [rule for t in topics for rule in _answer_rules(t)]
    return data


# Questions that name the topic and nothing more: the sub-answer selector's "overview" class.
OVERVIEW_TEMPLATES = ("{name}有哪些规定", "{name}的规定是什么", "我想咨询一下{name}的问题", "{name}方面我有什么权益",
                      "关于{name}", "{name}", "问一下{name}", "{name}相关的法律怎么说")


def overview_questions(topic: Topic) -> list[str]:
    """General questions on ``topic`` built from its title ("拖欠工资、克扣工资" -> both names)."""
    names = dict.fromkeys([topic.title, *topic.title.split("、")])
    return list(dict.fromkeys(template.format(name=name) for name in names for template in OVERVIEW_TEMPLATES))


def _lines(examples: list[str]) -> str:
    return "".join(f"- {example}\n" for example in examples)


def _examples(sub: Sub) -> list[str]:
    """The sub-answer's questions, its title and its conclusion: what tells it from its neighbours
    (cross-validated on the questions: 78.5 -> 82.1 % with the title and the conclusion)."""
    return list(dict.fromkeys([*sub.questions, sub.title, sub.answer.splitlines()[0]]))


def _variations(topic: Topic, subs: list[Sub]) -> list[dict]:
    """The topic's card; with sub-answers, one variation each (slot ``sub``) and the card as the
    overview offering them as buttons."""
    if not subs:
        return [folded(render_answer(topic), topic_tag(topic.id))]
    overview = {**folded(render_answer(topic), sub_tag(topic.id, OVERVIEW)),
                "buttons": [{"title": sub.title, "payload": _literal(sub_payload(topic.id, sub.id))}
                            for sub in subs[:MAX_SUB_BUTTONS]]}
    return [{"condition": [{"type": "slot", "name": SUB_ENTITY, "value": sub.id}],
             **folded(render_sub(sub, topic.title), sub_tag(topic.id, sub.id))} for sub in subs] + [overview]


def folded(text: str, tag: dict[str, str]) -> dict:
    """A card's text without its "依据：" line, which goes to the custom payload's ``details`` beside
    ``tag`` (the same shape as a calculation's: bot.knowledge.calc.Rendered)."""
    labels = load_templates().labels
    lines = text.split("\n")
    basis = [line for line in lines if line.startswith(labels["basis"])]
    shown = "\n".join(line for line in lines if not line.startswith(labels["basis"]))
    return {"text": shown, "custom": {**tag, **Rendered(shown, "\n".join(basis), labels["details"]).payload()}}


def _literal(text: str) -> str:
    """``text`` inside a response template: Rasa fills "{slot}" there, "{{" stands for "{"."""
    return text.replace("{", "{{").replace("}", "}}")


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
    """Regenerate ``output`` from ``source`` (and the sub-answers beside it, ``subs/``, and the general
    questions, ``overview_questions.yml``); only rewrite it when the content changed."""
    topics = load_topics(source)
    ids = frozenset(t.id for t in topics)
    data = build_training_data(topics, load_subs(Path(source).parent / "subs", ids),
                               load_overview_questions(Path(source).parent / OVERVIEW_FILE, ids))
    text = HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not output.exists() or output.read_text(encoding="utf-8") != text:
        output.write_text(text, encoding="utf-8")
    return output
