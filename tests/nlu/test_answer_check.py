"""The answer check: a topic answer that is probably wrong — the classifier's second model does not
share it, the story's question clause reads as another topic — is asked back ("你想问的是哪一个？")
instead of answered (bot/nlu/tfidf_classifier.py, bot/nlu/fallback.py).

The classifier is trained as Rasa trains it, persisted in a model storage and loaded; jieba splits
the words as the JiebaTokenizer before it does.
"""
from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.fallback import AskBackFallback
from bot.nlu.tfidf_classifier import DOUBTED, EVIDENCE, TfidfIntentClassifier, question_clause
from tests.conftest import ROOT
from tests.nlu.tokenized import tokenized

CONTEXT = ExecutionContext(GraphSchema({}), "test")
EXAMPLES = {
    "wage_arrears": ["老板拖欠工资三个月了", "工资一直不发怎么办", "公司欠我两个月工资", "包工头跑了工钱要不回来",
                     "离职后公司不结工资", "工资被无故克扣了"],
    "social_insurance": ["公司不给交社保", "社保断缴了怎么办", "单位没给我买社会保险", "社保缴费基数按最低交的",
                         "入职半年还没交社保", "换工作社保怎么转"],
    "greet": ["你好", "您好", "在吗", "哈喽", "早上好", "你好啊"],
}


message = tokenized


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalModelStorage, Resource, dict]:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("intents")
    config = {**TfidfIntentClassifier.get_default_config(), "min_df": 1,
              "topics_file": str(ROOT / "data" / "knowledge" / "topics.yml")}
    data = TrainingData([message(t, intent) for intent, texts in EXAMPLES.items() for t in texts])
    TfidfIntentClassifier.create(config, storage, resource, CONTEXT).train(data)
    return storage, resource, config


@pytest.fixture
def classifier(stored) -> TfidfIntentClassifier:
    return TfidfIntentClassifier.load(stored[2], stored[0], stored[1], CONTEXT)


def parse(classifier: TfidfIntentClassifier, text: str) -> Message:
    fallback = AskBackFallback({**AskBackFallback.get_default_config(), "threshold": 0.2,
                                "ambiguity_threshold": 0.0})
    [parsed] = fallback.process(classifier.process([message(text)]))
    return parsed


def evidence(classifier: TfidfIntentClassifier, text: str) -> dict[str, float]:
    [(_, numbers)] = classifier.answer_evidence([message(text)])
    return dict(zip(EVIDENCE, numbers))


def test_a_question_both_models_read_alike_is_answered(classifier) -> None:
    parsed = parse(classifier, "老板拖欠我的工资")
    assert parsed.get(INTENT)["name"] == "wage_arrears"
    assert parsed.get(DOUBTED) is None


def test_a_topic_answer_the_second_model_does_not_share_is_less_sure(classifier) -> None:
    agreeing = evidence(classifier, "老板拖欠我的工资")
    # Make the stored second model disagree by renaming its classes, as a model trained on other
    # features would on a hard story.
    classifier._second.classes_ = classifier._second.classes_[[2, 0, 1]]
    disagreeing = evidence(classifier, "老板拖欠我的工资")
    assert agreeing["second_model"] > 0.5 > disagreeing["second_model"]
    assert agreeing["confidence"] == disagreeing["confidence"]
    assert (classifier.answer_probability(np.array(list(disagreeing.values())))
            < classifier.answer_probability(np.array(list(agreeing.values()))))


def test_a_doubted_answer_is_asked_back_with_the_classifiers_own_ranking(stored) -> None:
    storage, resource, config = stored
    strict = TfidfIntentClassifier.load({**config, "answer_min_probability": 0.999}, storage, resource, CONTEXT)
    parsed = parse(strict, "老板拖欠我的工资")
    assert 0 < parsed.get(DOUBTED) < 0.999
    assert parsed.get(INTENT)["name"] == "nlu_fallback"
    ranked = [entry["name"] for entry in parsed.get(INTENT_RANKING_KEY)]
    assert ranked[:2] == ["nlu_fallback", "wage_arrears"]


def test_only_topic_answers_are_checked(stored) -> None:
    storage, resource, config = stored
    strict = TfidfIntentClassifier.load({**config, "answer_min_probability": 0.999}, storage, resource, CONTEXT)
    parsed = parse(strict, "你好")
    assert parsed.get(INTENT)["name"] == "greet"
    assert parsed.get(DOUBTED) is None
    assert strict.answer_evidence([message("你好")]) == [None]


def test_a_model_trained_without_the_second_model_checks_its_answers_alone(tmp_path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("intents")
    config = {**TfidfIntentClassifier.get_default_config(), "min_df": 1, "second_opinion": False,
              "topics_file": str(ROOT / "data" / "knowledge" / "topics.yml")}
    data = TrainingData([message(t, intent) for intent, texts in EXAMPLES.items() for t in texts])
    TfidfIntentClassifier.create(config, storage, resource, CONTEXT).train(data)
    loaded = TfidfIntentClassifier.load(config, storage, resource, CONTEXT)
    parsed = parse(loaded, "社保断缴了")
    assert parsed.get(INTENT)["name"] == "social_insurance"
    assert parsed.get(DOUBTED) is None
    numbers = evidence(loaded, "社保断缴了")
    assert numbers["second_model"] == numbers["confidence"]


# A story about social insurance whose question, at the end, is about unpaid wages.
STORY = "单位没给我买社会保险，社保断缴了，社保缴费基数按最低交的，老板拖欠工资三个月了工资一直不发怎么办"


def test_a_story_whose_last_clause_asks_about_another_topic_is_less_sure(stored) -> None:
    storage, resource, config = stored
    reading = TfidfIntentClassifier.load(config, storage, resource, CONTEXT)
    not_reading = TfidfIntentClassifier.load({**config, "clause_min_chars": 0}, storage, resource, CONTEXT)
    with_clause, without = evidence(reading, STORY), evidence(not_reading, STORY)
    # the clause alone is about wages: it gives the story's topic little and its own reading much
    assert with_clause["clause"] < 0.5 < with_clause["clause_best"]
    assert without["clause"] == without["clause_best"] == without["confidence"]
    doubted = reading.answer_probability(np.array(list(with_clause.values())))
    trusted = not_reading.answer_probability(np.array(list(without.values())))
    assert doubted < trusted
    # at a minimum between the two, the clause turns the answer into an ask-back
    between = {**config, "answer_min_probability": (doubted + trusted) / 2}
    parsed = parse(TfidfIntentClassifier.load(between, storage, resource, CONTEXT), STORY)
    ranked = [entry["name"] for entry in parsed.get(INTENT_RANKING_KEY)]
    assert ranked[:2] == ["nlu_fallback", "social_insurance"]
    parsed = parse(TfidfIntentClassifier.load({**between, "clause_min_chars": 0}, storage, resource, CONTEXT), STORY)
    assert parsed.get(INTENT)["name"] == "social_insurance"
    assert parsed.get(DOUBTED) is None


def test_the_check_can_be_turned_off(stored) -> None:
    storage, resource, config = stored
    loaded = TfidfIntentClassifier.load({**config, "answer_min_probability": 0}, storage, resource, CONTEXT)
    loaded._second.classes_ = loaded._second.classes_[[2, 0, 1]]
    parsed = parse(loaded, STORY)
    assert parsed.get(INTENT)["name"] == "social_insurance"
    assert parsed.get(DOUBTED) is None


@pytest.mark.parametrize("text, start", [
    ("我在厂里干了三年，社保一直交着，现在想辞职，要提前多久说", 9),  # the last clauses of >= 15 characters
    ("现在想辞职要提前多久跟公司说呢", None),  # one clause: the whole message
    ("前面，一二三四五六七八九十一二三四五", 3),
])
def test_the_question_clause_is_read_from_the_end(text: str, start: int | None) -> None:
    assert question_clause(text, 15) == start


def test_the_two_models_fitted_side_by_side_are_the_ones_fitted_one_after_the_other(classifier):
    """Training fits the main and the second model in two threads; neither depends on the other."""
    examples = [message(t, intent) for intent, texts in EXAMPLES.items() for t in texts]
    features, second = classifier._features(examples)
    labels = [e.get(INTENT) for e in examples]
    assert classifier._second is not None
    for fitted, rows in ((classifier._model, features), (classifier._second, second)):
        alone = classifier._classifier().fit(rows, labels)
        assert list(alone.classes_) == list(fitted.classes_)
        assert np.allclose(alone.coef_, fitted.coef_) and np.allclose(alone.intercept_, fitted.intercept_)
