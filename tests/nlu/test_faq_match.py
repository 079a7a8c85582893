"""Staff FAQs reached by a worker's own wording (bot/nlu/faq_match.py), rights questions left alone.

The matcher is trained as Rasa trains it (on the project's real NLU data plus two staff FAQs),
persisted in the model and loaded; the messages carry the intent the classifier would have given them.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.faq_match import FaqMatcher
from bot.nlu_data import load_nlu_examples
from bot.teaching.evaluate import topic_of
from tests.conftest import ROOT

CONTEXT = ExecutionContext(GraphSchema({}), "test")
# Invented for these tests (not the subjects of bench/faq_cases).
FAQS = {
    "fitness_room": ["工会健身房怎么预约", "职工健身房开放时间", "工会的健身房收费吗",
                     "在哪里可以预约工会的羽毛球场", "下班后能去工会健身吗"],
    "wedding_gift": ["会员结婚工会有慰问金吗", "结婚了怎么向工会申请慰问", "工会结婚慰问金多少钱",
                     "领结婚证后找工会领慰问品", "结婚慰问需要交什么材料"],
}
ANSWER = "职工健身房在服务中心一楼，每天10:00-21:00开放，会员在小程序提前一天预约，免费使用。"


def training_data() -> TrainingData:
    messages = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for text, label in load_nlu_examples(path):
            messages.append(Message({TEXT: text, INTENT: label.split("/")[0], INTENT_RESPONSE_KEY: label}))
    for slug, questions in FAQS.items():
        messages += [Message({TEXT: q, INTENT: "faq", INTENT_RESPONSE_KEY: f"faq/{slug}"}) for q in questions]
    return TrainingData(messages, responses={"utter_faq/fitness_room": [{"text": ANSWER}],
                                             "utter_faq/wedding_gift": [{"text": "五百元结婚慰问金"}]})


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> FaqMatcher:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("faq_match")
    config = FaqMatcher.get_default_config()
    FaqMatcher.create(config, storage, resource, CONTEXT).train(training_data())
    return FaqMatcher.load(config, storage, resource, CONTEXT)


def parsed(matcher: FaqMatcher, text: str, intent: str, confidence: float = 0.9,
           ranking: list[tuple[str, float]] = ()) -> dict:
    """The parse a worker's message gets when the intent classifier (and the fallback) said ``intent``."""
    ranked = [{"name": name, "confidence": c} for name, c in ranking] or [{"name": intent, "confidence": confidence}]
    message = Message({TEXT: text, INTENT: {"name": intent, "confidence": confidence}, INTENT_RANKING_KEY: ranked})
    [message] = matcher.process([message])
    return {key: message.get(key) for key in ("intent", "intent_ranking", "response_selector")}


def test_a_paraphrase_diet_sent_elsewhere_reaches_the_faq(matcher: FaqMatcher):
    # The intent classifier guessed a rights topic for a question about the union's gym.
    parse = parsed(matcher, "想去打羽毛球要提前约吗", "resignation", 0.47)
    assert topic_of(parse) == "fitness_room"
    selected = parse["response_selector"]["faq"]["response"]
    assert selected["utter_action"] == "utter_faq/fitness_room"
    assert selected["responses"] == [{"text": ANSWER}]
    assert parse["intent_ranking"][0]["name"] == "faq"


def test_a_paraphrase_the_fallback_gave_up_on_reaches_the_faq_diet_ranked_first(matcher: FaqMatcher):
    parse = parsed(matcher, "刚结婚工会那个五百块怎么拿", "nlu_fallback", 0.35,
                   ranking=[("nlu_fallback", 0.35), ("faq", 0.23), ("union_membership", 0.15)])
    assert topic_of(parse) == "wedding_gift"


def test_a_message_the_fallback_gave_up_on_gets_the_faq_it_is_nearest_to(matcher: FaqMatcher):
    text = "刚结婚工会那个五百块怎么拿"
    unsure = parsed(matcher, text, "nlu_fallback", 0.3, ranking=[("nlu_fallback", 0.3), ("union_membership", 0.2)])
    assert topic_of(unsure) == "wedding_gift"
    # Barely nearer to the FAQ than to other examples: a confident rights topic keeps it.
    assert topic_of(parsed(matcher, text, "marriage_funeral_leave", 0.8)) == "marriage_funeral_leave"


@pytest.mark.parametrize("text, intent", [
    ("工会那个健身的地方晚上开到几点", "union_assistance"),
    ("会员在小程序上怎么预约锻炼", "union_membership"),
    # Only the answer says "提前一天预约": its words count as well as the variants'.
    ("工会有没有可以锻炼身体的地方，要不要提前一天约", "union_assistance"),
])
def test_a_union_service_question_a_staff_faq_answers_gets_the_faq(matcher: FaqMatcher, text: str, intent: str):
    # The classifier is sure it is about the union's services; the staff FAQ is the specific answer.
    assert topic_of(parsed(matcher, text, intent, 0.9)) == "fitness_room"


@pytest.mark.parametrize("text, intent", [
    ("怎么加入工会", "union_membership"),
    ("加入工会有什么好处", "union_membership"),
    ("工会能帮忙打官司吗", "union_assistance"),
])
def test_union_questions_no_staff_faq_answers_keep_their_topic(matcher: FaqMatcher, text: str, intent: str):
    assert topic_of(parsed(matcher, text, intent, 0.9)) == intent


def test_diet_saying_faq_gets_the_faq_its_variants_point_to(matcher: FaqMatcher):
    # The shared ResponseSelector may answer faq with a chitchat response; the variants decide.
    parse = parsed(matcher, "工会那边的健身房要不要钱啊", "faq", 0.69)
    assert topic_of(parse) == "fitness_room"


@pytest.mark.parametrize("text, topic", [
    ("结婚能休几天婚假", "marriage_funeral_leave"),
    ("领了结婚证公司不批婚假怎么办", "marriage_funeral_leave"),
    ("下班后还要在公司加班算不算加班费", "overtime_pay"),
    ("老板两个月没给我发工资了怎么办", "wage_arrears"),
])
def test_rights_questions_near_a_faq_keep_their_topic(matcher: FaqMatcher, text: str, topic: str):
    assert topic_of(parsed(matcher, text, topic)) == topic


def test_out_of_scope_and_unsure_messages_are_not_made_faqs(matcher: FaqMatcher):
    assert topic_of(parsed(matcher, "今天天气怎么样", "out_of_scope", 0.9)) == "out_of_scope"
    unsure = parsed(matcher, "我想办一张健身卡", "nlu_fallback", 0.3,
                    ranking=[("nlu_fallback", 0.3), ("out_of_scope", 0.2), ("faq", 0.1)])
    assert topic_of(unsure) == "out_of_scope"


def test_without_staff_faqs_nothing_changes(tmp_path: Path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("faq_match")
    config = FaqMatcher.get_default_config()
    FaqMatcher.create(config, storage, resource, CONTEXT).train(
        TrainingData([Message({TEXT: "老板不发工资", INTENT: "wage_arrears"})]))
    loaded = FaqMatcher.load(config, storage, resource, CONTEXT)
    assert topic_of(parsed(loaded, "工会健身房怎么预约", "nlu_fallback", 0.2)) == "out_of_scope"
