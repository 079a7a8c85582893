"""The knowledge base covers every contract topic with the facts and citations it must state."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge.generate import build_training_data, write_training_data
from bot.knowledge.topics import KnowledgeError, format_citation, load_topics, render_answer
from tests.conftest import needs_shared_spec, spec_topics

SPEC = spec_topics()
SPEC_BY_ID = {t["id"]: t for t in SPEC}
TOPICS = load_topics()
BY_ID = {t.id: t for t in TOPICS}
# One phone screen: title, answer, basis and next step together.
MAX_RENDERED_CHARS = 420


@needs_shared_spec
def test_every_contract_topic_has_an_answer():
    assert set(BY_ID) == set(SPEC_BY_ID)


@needs_shared_spec
@pytest.mark.parametrize("topic_id", sorted(BY_ID))
def test_answer_cites_every_basis_of_the_spec(topic_id):
    rendered = render_answer(BY_ID[topic_id])
    for basis in SPEC_BY_ID[topic_id]["basis"]:
        assert format_citation(basis) in rendered, basis


@needs_shared_spec
@pytest.mark.parametrize("topic_id", sorted(BY_ID))
def test_answer_states_every_fact_of_the_spec(topic_id):
    topic = BY_ID[topic_id]
    spec_facts = SPEC_BY_ID[topic_id]["facts"]
    assert [f.text for f in topic.facts] == spec_facts, "facts must mirror topics.yml one to one"
    for fact in topic.facts:
        assert fact.must_say, f"no evidence phrases for: {fact.text}"
        for phrase in fact.must_say:
            assert phrase in topic.answer, f"{phrase!r} missing for fact: {fact.text}"


@pytest.mark.parametrize("topic_id", sorted(BY_ID))
def test_answer_fits_one_phone_screen_and_says_what_to_do_next(topic_id):
    rendered = render_answer(BY_ID[topic_id])
    assert len(rendered) <= MAX_RENDERED_CHARS
    assert "\n下一步：" in rendered and "依据：" in rendered


def test_citation_format():
    assert format_citation("劳动法 第50条") == "《劳动法》第50条"
    assert format_citation("保障农民工工资支付条例") == "《保障农民工工资支付条例》"
    assert (format_citation("关于贯彻执行《劳动法》若干问题的意见 第59条")
            == "《关于贯彻执行〈劳动法〉若干问题的意见》第59条")


def test_generated_data_has_one_response_and_its_rules_per_topic(tmp_path: Path):
    out = write_training_data(output=tmp_path / "knowledge.yml")
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(data["responses"]) == {t.response_name for t in TOPICS}
    cards = {name: next(v for v in variants if not v.get("condition"))
             for name, variants in data["responses"].items()}
    # the answer and the next step in the text; the statutes folded in the payload (web chat:
    # "查看依据"; WeChat: reply 依据), so the card fits a phone screen
    overtime = render_answer(BY_ID["overtime_pay"]).split("\n")
    basis = [line for line in overtime if line.startswith("依据：")]
    assert cards["utter_overtime_pay_answer"]["text"].split("\n") == [line for line in overtime if line not in basis]
    assert cards["utter_overtime_pay_answer"]["custom"]["details"] == {"label": "查看依据", "text": basis[0]}
    assert all(card["custom"]["details"]["text"].startswith("依据：《") and "依据：" not in card["text"]
               for card in cards.values())
    # every answer names its topic for integrations (the channels show only the text); the card of
    # a topic with sub-answers (data/knowledge/subs/) is its overview
    assert all(card["custom"]["topic"] == name.removeprefix("utter_").removesuffix("_answer")
               for name, card in cards.items())
    plain = {r["steps"][0]["intent"]: r["steps"][1]["action"] for r in data["rules"] if len(r["steps"]) == 2}
    # Topics that use the worker's numbers or region answer through action_calculate.
    calculated = {"annual_leave", "dismissal_compensation", "overtime_pay", "sick_leave", "maternity",
                  "labour_contract", "probation", "arbitration", "minimum_wage", "work_injury"}
    answers = {t.id: "action_calculate" if t.id in calculated else t.response_name for t in TOPICS}
    assert plain == answers
    # the same answer when a second topic is named too, and then that topic is offered
    also = {r["steps"][0]["intent"]: [s["action"] for s in r["steps"][1:]]
            for r in data["rules"] if r["steps"][0].get("entities") == ["also_topic"]}
    assert also == {t: [a, "action_also_mentioned"] for t, a in answers.items()}


def test_generation_is_stable():
    assert build_training_data(TOPICS) == build_training_data(load_topics())


@pytest.mark.parametrize(
    "content, message",
    [
        ("topics: {}", "'topics' list"),
        ("topics:\n  - id: a\n    title: t\n    answer: x\n    next: n\n    basis: []", "basis"),
        ("topics:\n  - id: bad id\n    title: t", "snake_case"),
        ("topics:\n  - id: a\n    answer: x\n    next: n\n    basis: [b]", "title"),
    ],
)
def test_malformed_knowledge_is_rejected_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "topics.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=message):
        load_topics(path)
