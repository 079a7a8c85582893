"""Sub-question answers: every topic's specific questions, each with its rule, article and next step."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge.generate import build_training_data
from bot.knowledge.subs import OVERVIEW, KnowledgeError, load_subs, render_sub, sub_payload
from bot.knowledge.topics import load_topics

TOPICS = load_topics()
TITLES = {t.id: t.title for t in TOPICS}
SUBS = load_subs(topic_ids=frozenset(TITLES))
ALL = [sub for subs in SUBS.values() for sub in subs]
# issue 18: at least 90 in all, 3 per topic, 7 for the topics workers ask most about
MOST_ASKED = ("work_injury", "wage_arrears", "dismissal_compensation", "social_insurance", "labour_contract")
# One phone screen: title, answer, basis and next step together.
MAX_RENDERED_CHARS = 360

needs_subs = pytest.mark.skipif(not ALL, reason="no sub-answers in data/knowledge/subs yet")


@needs_subs
def test_every_topic_has_its_sub_answers():
    assert len(ALL) >= 90
    counts = {topic: len(SUBS.get(topic, [])) for topic in TITLES}
    assert {t: n for t, n in counts.items() if n < 3} == {}
    assert {t: counts[t] for t in MOST_ASKED if counts[t] < 7} == {}


@needs_subs
@pytest.mark.parametrize("sub", ALL, ids=lambda s: s.key)
def test_a_sub_answer_states_its_facts_cites_and_says_what_next(sub):
    rendered = render_sub(sub, TITLES[sub.topic])
    assert len(rendered) <= MAX_RENDERED_CHARS
    assert all(phrase in sub.answer for phrase in sub.must_say)
    assert "依据：《" in rendered and "\n下一步：" in rendered
    assert len(sub.questions) >= 8 and len(set(sub.questions)) == len(sub.questions)


@needs_subs
def test_no_two_sub_answers_share_a_training_question():
    questions = [q for sub in ALL for q in sub.questions]
    assert len(set(questions)) == len(questions)


def write(directory: Path, topic: str, **changes) -> Path:
    sub = {"id": "uninsured", "title": "没买工伤保险",
           "answer": "单位没给你交工伤保险的，工伤待遇由单位按同样的项目和标准支付。",
           "basis": ["工伤保险条例 第62条"], "next": "可以说\"转人工\"。", "must_say": ["由单位"],
           "questions": ["没交工伤保险受伤了谁赔"]}
    sub.update(changes)
    (directory / f"{topic}.yml").write_text(yaml.safe_dump({"topic": topic, "subs": [sub]}, allow_unicode=True),
                                           encoding="utf-8")
    return directory


@pytest.mark.parametrize("changes, problem", [
    ({"must_say": ["第62条规定"]}, "must_say"),
    ({"title": "单位没有给我买工伤保险怎么办"}, "title"),
    ({"id": "Uninsured"}, "id"),
    ({"id": OVERVIEW}, OVERVIEW),
    ({"basis": ["工伤保险条例 62条"]}, "citations"),
    ({"questions": []}, "questions"),
])
def test_a_malformed_sub_answer_is_refused_with_its_place(tmp_path, changes, problem):
    with pytest.raises(KnowledgeError, match=problem):
        load_subs(write(tmp_path, "work_injury", **changes))


def test_a_file_names_its_topic(tmp_path):
    write(tmp_path, "work_injury")
    (tmp_path / "work_injury.yml").rename(tmp_path / "wage_arrears.yml")
    with pytest.raises(KnowledgeError, match="file's name"):
        load_subs(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(KnowledgeError, match="unknown topic"):
        load_subs(write(other, "not_a_topic"), topic_ids=frozenset(TITLES))


def test_the_topic_card_becomes_the_overview_and_each_sub_answer_a_variation(tmp_path):
    subs = load_subs(write(tmp_path, "work_injury"))
    data = build_training_data(TOPICS, subs)
    variations = data["responses"]["utter_work_injury_answer"]
    chosen = [v for v in variations if v.get("condition")]
    rendered = render_sub(subs["work_injury"][0], TITLES["work_injury"]).split("\n")
    [basis] = [line for line in rendered if line.startswith("依据：")]
    assert chosen == [{"condition": [{"type": "slot", "name": "sub", "value": "uninsured"}],
                       "text": "\n".join(line for line in rendered if line != basis),
                       "custom": {"topic": "work_injury", "sub": "uninsured",
                                  "details": {"label": "查看依据", "text": basis}}}]
    overview = next(v for v in variations if not v.get("condition"))
    assert {k: v for k, v in overview["custom"].items() if k != "details"} == {"topic": "work_injury", "sub": OVERVIEW}
    assert overview["custom"]["details"]["text"].startswith("依据：《")
    assert [b["title"] for b in overview["buttons"]] == ["没买工伤保险"]
    # the questions train the topic's intent, the sub-answer named in the block's metadata
    assert data["nlu"][0] == {"intent": "work_injury", "metadata": {"sub": "uninsured"},
                              "examples": "- 没交工伤保险受伤了谁赔\n- 没买工伤保险\n"
                                          "- 单位没给你交工伤保险的，工伤待遇由单位按同样的项目和标准支付。\n"}
    # and general questions built from the topic's title teach what an overview question is
    [overview_block] = data["nlu"][1:]
    assert overview_block["intent"] == "work_injury" and overview_block["metadata"] == {"sub": OVERVIEW}
    assert "- 工伤认定与待遇有哪些规定\n" in overview_block["examples"]
    # topics without sub-answers keep their one card
    assert data["responses"]["utter_wage_arrears_answer"] == build_training_data(TOPICS)["responses"][
        "utter_wage_arrears_answer"]


@pytest.mark.parametrize("slot, expected", [("uninsured", "uninsured"), (OVERVIEW, OVERVIEW), (None, OVERVIEW)])
def test_rasa_picks_the_variation_of_the_sub_slot(tmp_path, slot, expected):
    import asyncio

    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.slots import TextSlot
    from rasa.shared.core.trackers import DialogueStateTracker

    responses = build_training_data(TOPICS, load_subs(write(tmp_path, "work_injury")))["responses"]
    tracker = DialogueStateTracker.from_events("worker", [SlotSet("sub", slot)],
                                               slots=[TextSlot("sub", mappings=[], influence_conversation=False)])
    message = asyncio.run(TemplatedNaturalLanguageGenerator(responses).generate(
        "utter_work_injury_answer", tracker, "rest"))
    assert {k: v for k, v in message["custom"].items() if k != "details"} == {"topic": "work_injury", "sub": expected}
    assert ("单位没给你交工伤保险" in message["text"]) == (expected == "uninsured")
    if expected == OVERVIEW:  # the sub-answers as buttons, their payloads as Rasa parses them
        assert message["buttons"] == [{"title": "没买工伤保险", "payload": sub_payload("work_injury", "uninsured")}]


def test_general_questions_join_their_topics_overview_class():
    from bot.knowledge.subs import OVERVIEW_FILE, load_overview_questions

    general = load_overview_questions(Path("data/knowledge") / OVERVIEW_FILE, frozenset(TITLES))
    assert "加班费怎么算" in general["overtime_pay"]
    nlu = build_training_data(TOPICS, SUBS, general)["nlu"]
    [overtime] = [block for block in nlu
                  if block["intent"] == "overtime_pay" and block["metadata"] == {"sub": OVERVIEW}]
    assert "- 加班费怎么算\n" in overtime["examples"] and "- 加班费有哪些规定\n" in overtime["examples"]
    # a general question is never also a sub-answer's own training question
    specific = {q for sub in ALL for q in sub.questions}
    assert {q for questions in general.values() for q in questions} & specific == set()


@pytest.mark.parametrize("content, problem", [
    ("no_such_topic: [工资怎么算]\n", "unknown topic"),
    ("overtime_pay: 加班费怎么算\n", "list of texts"),
    ("overtime_pay: ['']\n", "list of texts"),
    ("- 加班费怎么算\n", "map topic ids"),
])
def test_malformed_general_questions_are_refused(tmp_path, content, problem):
    from bot.knowledge.subs import load_overview_questions

    path = tmp_path / "overview_questions.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=problem):
        load_overview_questions(path, frozenset(TITLES))
    assert load_overview_questions(tmp_path / "absent.yml") == {}
