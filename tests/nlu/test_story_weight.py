"""Real consultations are stories. The intent classifier lets its training stories (``long_min_chars``
characters or more) count ``long_weight`` times, so where a story and a short question of another
topic share their words, a worker's story leans to the story's topic."""
from __future__ import annotations

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.tfidf_classifier import TfidfIntentClassifier
from tests.conftest import ROOT
from tests.nlu.tokenized import tokenized

CONTEXT = ExecutionContext(GraphSchema({}), "test")
STORY = "我在工地上干了大半年，包工头一直说月底结账，到现在一分钱都没拿到，这钱我该去哪里要"
EXAMPLES = {
    "wage_arrears": ["老板拖欠工资", "工资一直不发", "欠薪怎么办", STORY],
    # a short question of another topic with the story's words
    "social_insurance": ["公司不交社保", "社保断缴了", "工地上干活包工头不给买保险", "社保怎么补缴"],
}
PROBE = "在工地上干了半年，包工头说月底给，到现在没拿到"


def _confidence_of_story_topic(tmp_path, long_weight: float) -> float:
    config = {**TfidfIntentClassifier.get_default_config(), "min_df": 1, "long_weight": long_weight,
              "second_opinion": False, "topics_file": str(ROOT / "data" / "knowledge" / "topics.yml")}
    folder = tmp_path / f"weight{long_weight:g}"
    folder.mkdir()
    storage, resource = LocalModelStorage(folder), Resource("intents")
    data = TrainingData([tokenized(t, intent) for intent, texts in EXAMPLES.items() for t in texts])
    classifier = TfidfIntentClassifier.create(config, storage, resource, CONTEXT)
    classifier.train(data)
    [parsed] = classifier.process([tokenized(PROBE)])
    return next(r["confidence"] for r in parsed.get("intent_ranking") if r["name"] == "wage_arrears")


def test_a_story_in_training_counts_more_than_a_short_question_with_its_words(tmp_path) -> None:
    assert len(STORY) >= TfidfIntentClassifier.get_default_config()["long_min_chars"]
    plain = _confidence_of_story_topic(tmp_path, 1.0)
    weighted = _confidence_of_story_topic(tmp_path, 3.0)
    assert weighted > plain + 0.02
