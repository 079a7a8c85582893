"""The sub-question a message asks within its topic (bot/nlu/sub_selector.py).

The selector is trained as Rasa trains it (jieba tokens, sub-answers named in the intent block's
metadata), persisted in the model and loaded; the messages carry the intent the classifier gave them.
"""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sub_selector import SubSelector

CONTEXT = ExecutionContext(GraphSchema({}), "test")
# Invented for these tests.
QUESTIONS = {
    ("work_injury", "uninsured"): ["厂里没给我买工伤保险受伤了谁赔", "没交工伤保险出了事找谁", "老板没买保险我摔伤了怎么办",
                                   "单位没上工伤险，医药费谁出", "公司没有给我们交工伤保险，受伤了能要到钱吗"],
    ("work_injury", "commute"): ["下班路上被车撞了算工伤吗", "上班途中骑电动车摔了算不算", "回家路上出车祸是工伤吗",
                                 "早上去公司的路上被电瓶车撞了", "下班回家的时候被汽车撞伤能认定工伤吗"],
    ("wage_arrears", "after_quit"): ["辞职以后工资什么时候给", "离职了老板说下个月再结工资"],
}


def tokenizer(storage: LocalModelStorage) -> JiebaTokenizer:
    return JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, Resource("jieba"), CONTEXT)


@pytest.fixture(scope="module")
def selector(tmp_path_factory: pytest.TempPathFactory) -> tuple[SubSelector, JiebaTokenizer]:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    jieba = tokenizer(storage)
    messages = [Message.build(q, intent=topic, intent_metadata={"sub": sub})
                for (topic, sub), questions in QUESTIONS.items() for q in questions]
    messages.append(Message.build("工伤的规定是什么", intent="work_injury"))  # no sub-answer: not learned
    messages += [Message.build(q, intent="work_injury", intent_metadata={"sub": "overview"})
                 for q in ("工伤有哪些规定", "关于工伤", "工伤相关的法律怎么说", "我想咨询一下工伤的问题")]
    data = TrainingData(messages)
    jieba.process_training_data(data)
    resource = Resource("sub_selector")
    config = SubSelector.get_default_config()
    SubSelector.create(config, storage, resource, CONTEXT).train(data)
    return SubSelector.load(config, storage, resource, CONTEXT), jieba


def parse(selector: tuple[SubSelector, JiebaTokenizer], text: str, intent: str,
          ranking: list[str] = (), entity: str = "sub", topic_confidence: float = 0.2) -> list[dict]:
    component, jieba = selector
    message = Message({TEXT: text, INTENT: {"name": intent, "confidence": 0.9},
                       INTENT_RANKING_KEY: [{"name": n, "confidence": topic_confidence} for n in ranking]})
    jieba.process([message])
    component.process([message])
    return [e for e in message.get(ENTITIES) or [] if e["entity"] == entity]


def test_the_sub_question_of_the_topic_is_found_in_new_wordings(selector):
    [found] = parse(selector, "我老公在工地摔伤了，老板压根没给他交工伤保险，这钱该谁出", "work_injury")
    assert found["value"] == "uninsured" and found["extractor"] == "SubSelector"
    assert parse(selector, "骑车上班的路上被车撞了，这个能算工伤吗", "work_injury")[0]["value"] == "commute"


def test_other_intents_and_topics_with_one_sub_answer_get_none(selector):
    assert parse(selector, "骑车上班的路上被车撞了，这个能算工伤吗", "nlu_fallback") == []
    assert parse(selector, "辞职以后工资什么时候给", "wage_arrears") == []  # one sub-answer: nothing to choose
    assert parse(selector, "", "work_injury") == []


def test_a_question_on_the_topic_in_general_gets_the_overview(selector):
    assert parse(selector, "工伤方面的法律有哪些规定", "work_injury") == []


def test_an_unclear_question_gets_the_overview(selector):
    component, _ = selector
    strict = SubSelector({**component._config, "min_confidence": 0.99}, None, None, component._topics)
    assert parse((strict, selector[1]), "工伤怎么办", "work_injury") == []


def test_a_message_asked_back_about_gets_the_sub_answer_of_each_topic_offered(selector):
    """The ask-back's buttons carry them: the topic pressed answers the question asked."""
    story = "我老公在工地摔伤了，老板压根没给他交工伤保险，这钱该谁出"
    ranking = ["nlu_fallback", "wage_arrears", "work_injury", "greet"]
    found = parse(selector, story, "nlu_fallback", ranking, entity="sub_guess")
    assert [e["value"] for e in found] == ["work_injury/uninsured"]  # wage_arrears has one sub-answer: none
    assert parse(selector, story, "nlu_fallback", ranking) == []  # no sub-answer picked for the message itself
    assert [e["value"] for e in parse(selector, story, "out_of_scope", ranking, entity="sub_guess")] == [
        "work_injury/uninsured"]
    assert parse(selector, story, "work_injury", ranking, entity="sub_guess") == []  # answered, not asked back
    # a topic the model hardly considers is offered as itself: its likeliest sub-answer would mean nothing
    assert parse(selector, story, "nlu_fallback", ranking, entity="sub_guess", topic_confidence=0.05) == []
