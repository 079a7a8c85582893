"""Count-vector features only where the ResponseSelector reads them (bot/nlu/retrieval_features.py):
chitchat and staff-FAQ messages get exactly the features Rasa's own featurizer gives them; topic
messages, which the selector never reads, get none."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.retrieval_features import RetrievalCountVectorsFeaturizer
from tests.nlu.tokenized import tokenized

CONTEXT = ExecutionContext(GraphSchema({}), "test")
TOPICS = {"wage_arrears": ["老板拖欠工资三个月", "包工头跑了工钱要不回来"],
          "social_insurance": ["公司不给交社保", "社保断缴了怎么办"]}
CHITCHAT = {"chitchat/ask_is_free": ["用这个要钱吗", "咨询收费吗"],
            "chitchat/ask_abilities": ["你能做什么", "你会些什么"]}


message = tokenized


def training_data() -> TrainingData:
    examples = [message(t, intent) for intent, texts in TOPICS.items() for t in texts]
    examples += [message(t, key.split("/")[0], key) for key, texts in CHITCHAT.items() for t in texts]
    return TrainingData(examples)


def trained(cls: type, tmp_path, name: str, config: dict | None = None, data: TrainingData | None = None):
    (tmp_path / name).mkdir()
    storage, resource = LocalModelStorage(tmp_path / name), Resource(name)
    config = {**cls.get_default_config(), "min_df": 1, **(config or {})}
    component = cls.create(config, storage, resource, CONTEXT)
    component.train(data or training_data())
    return cls.load(config, storage, resource, CONTEXT)


def sentence_features(message_: Message):
    sparse, _ = message_.get_sparse_features(TEXT)
    return sparse.features if sparse is not None else None


@pytest.mark.parametrize("analyzer", ["word", "char_wb"])
def test_chitchat_messages_get_rasas_features_and_topic_messages_none(tmp_path, analyzer):
    config = {"analyzer": analyzer, "max_ngram": 2}
    ours = trained(RetrievalCountVectorsFeaturizer, tmp_path, "ours", config)
    rasas = trained(CountVectorsFeaturizer, tmp_path, "rasa", config)
    # The vocabulary is learnt from all the data, topic examples included.
    assert ours.vectorizers[TEXT].vocabulary_ == rasas.vectorizers[TEXT].vocabulary_
    asked = [message("工钱要钱吗", {"name": "chitchat", "confidence": 0.9}),
             message("包工头跑了工钱要不回来", {"name": "wage_arrears", "confidence": 0.9})]
    expected = [message("工钱要钱吗", {"name": "chitchat", "confidence": 0.9})]
    ours.process(asked)
    rasas.process(expected)
    assert (sentence_features(asked[0]) != sentence_features(expected[0])).nnz == 0
    assert asked[1].features == []


def test_only_retrieval_examples_are_featurized_for_training(tmp_path):
    data = training_data()
    trained(RetrievalCountVectorsFeaturizer, tmp_path, "ours").process_training_data(data)
    featurized = {m.get(TEXT) for m in data.training_examples if m.features}
    assert featurized == {t for texts in CHITCHAT.values() for t in texts}


def test_a_retrieval_intent_it_would_not_featurize_fails_training(tmp_path):
    data = TrainingData(training_data().training_examples + [message("食堂几点开饭", "canteen", "canteen/hours")])
    with pytest.raises(ValueError, match="canteen"):
        trained(RetrievalCountVectorsFeaturizer, tmp_path, "ours", data=data)
