"""Rasa component: the other topics of the same message ("未签合同又不交社保").

Runs after the FallbackClassifier. When the message is answered as a topic and also names
another topic that the model ranks close (bot/knowledge/signals.py: its signal words, and among
the three best-ranked topics), it adds an ``also_topic`` entity naming it; a rule then offers
that topic as a button after the answer ("你还提到了：社会保险"). A story that raises several
problems ("没签合同…被辞退了，工资也没发") gets one ``also_topic`` entity for each other topic, all
listed after the answer (signals.other_topics). The signal words are compiled into the model at
training time, so a running model never depends on the data folder.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.signals import ALSO_ENTITY, load_signals, other_topics
from bot.nlu.model_files import load_json, save_json

logger = logging.getLogger(__name__)

SIGNALS_FILE = "signals.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class AlsoMentioned(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"signals_file": "data/knowledge/signals.yml"}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 signals: dict[str, list[str]] | None = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._signals = {topic: tuple(forms) for topic, forms in (signals or {}).items()}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> AlsoMentioned:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        signals = load_signals(Path(self._config["signals_file"]))
        save_json(self._model_storage, self._resource, SIGNALS_FILE, {k: list(v) for k, v in signals.items()})
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> AlsoMentioned:
        signals = load_json(model_storage, resource, SIGNALS_FILE)
        if signals is None:
            logger.warning("no topic signals in the model: a second topic will not be offered")
        return cls(config, model_storage, resource, signals)

    def process(self, messages: list[Message]) -> list[Message]:
        if not self._signals:
            return messages
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            others = other_topics(intent, message.get(INTENT_RANKING_KEY) or [], message.get(TEXT) or "",
                                  self._signals)
            if not others:
                continue
            entities = [{"entity": ALSO_ENTITY, "value": also, "start": 0, "end": 0,
                         "extractor": self.__class__.__name__} for also in others]
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), *entities], add_to_output=True)
        return messages
