"""Our two NLU components as Rasa runs them: trained, persisted in the model, loaded, processing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.entities import ChineseEntityExtractor
from bot.nlu.sentence_only import SentenceFeaturesOnly

CONTEXT = ExecutionContext(GraphSchema({}), "test")


def trained_extractor(tmp_path: Path) -> ChineseEntityExtractor:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("entities")
    config = ChineseEntityExtractor.get_default_config()
    ChineseEntityExtractor.create(config, storage, resource, CONTEXT).train(TrainingData())
    return ChineseEntityExtractor.load(config, storage, resource, CONTEXT)


def entities_of(extractor: ChineseEntityExtractor, text: str) -> list[tuple[str, object]]:
    [message] = extractor.process([Message({TEXT: text})])
    return [(e["entity"], e["value"]) for e in message.get(ENTITIES) or []]


def test_a_loaded_model_finds_numbers_places_and_circumstances(tmp_path: Path):
    extractor = trained_extractor(tmp_path)
    found = entities_of(extractor, "我在深圳干了三年半，月薪六千，被辞退了")
    assert ("region", "广东") in found and ("duration", 42) in found and ("money", 6000) in found
    assert ("day_type", "restday") in entities_of(extractor, "周末加了16个小时")
    assert ("birth", "caesarean") in entities_of(extractor, "剖腹产的产假有几天")


def test_the_vocabulary_lives_in_the_model_not_the_data_folder(tmp_path: Path, monkeypatch):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("entities")
    config = ChineseEntityExtractor.get_default_config()
    ChineseEntityExtractor.create(config, storage, resource, CONTEXT).train(TrainingData())
    monkeypatch.chdir(tmp_path)  # data/knowledge/ no longer reachable by relative path
    loaded = ChineseEntityExtractor.load(config, storage, resource, CONTEXT)
    assert ("region", "浙江") in entities_of(loaded, "杭州的产假多少天")


def test_bad_input_yields_no_entities_and_no_error(tmp_path: Path):
    extractor = trained_extractor(tmp_path)
    for text in ("", "   ", "😀😀😀", "\x00\x01", "啊" * 10_000):
        assert entities_of(extractor, text) == []


def test_only_sentence_features_reach_the_classifiers():
    sentence = scipy.sparse.coo_matrix(np.ones((1, 50)))
    message = Message({TEXT: "年假怎么算"})
    message.features = [
        Features(scipy.sparse.coo_matrix(np.ones((4, 50))), FEATURE_TYPE_SEQUENCE, TEXT, "words"),
        Features(sentence, FEATURE_TYPE_SENTENCE, TEXT, "words"),
    ]
    SentenceFeaturesOnly().process([message])
    sequence = [f for f in message.features if f.type == FEATURE_TYPE_SEQUENCE]
    kept = [f for f in message.features if f.type == FEATURE_TYPE_SENTENCE]
    assert len(sequence) == 1 and sequence[0].features.shape == (1, 1) and sequence[0].features.nnz == 0
    assert len(kept) == 1 and (kept[0].features != sentence).nnz == 0
