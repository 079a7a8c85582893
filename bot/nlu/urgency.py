"""Rasa component: crisis and urgent words override the classified intent.

Runs after the FallbackClassifier. A message matching ``data/knowledge/urgent.yml``
becomes intent ``urgent_help`` with an ``urgency`` entity naming the category, so a
rule hands it to a person at once, also inside a form. The patterns are compiled at
training time into the model, so a running model never depends on the data folder.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.model_files import load_json, save_json
from bot.urgency import UrgencyRule, detect, rules_from_data

logger = logging.getLogger(__name__)

URGENT_INTENT = "urgent_help"
URGENCY_ENTITY = "urgency"
RULES_FILE = "urgent.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UrgencyDetector(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"patterns_file": "data/knowledge/urgent.yml"}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 data: dict[str, Any] | None = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._data = data or {"categories": {}}
        self._rules: list[UrgencyRule] = rules_from_data(self._data)

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UrgencyDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        data = yaml.safe_load(Path(self._config["patterns_file"]).read_text(encoding="utf-8"))
        rules_from_data(data)  # fail the training run on a bad pattern, not the live bot
        save_json(self._model_storage, self._resource, RULES_FILE, data)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UrgencyDetector:
        data = load_json(model_storage, resource, RULES_FILE)
        if data is None:
            logger.warning("no urgency rules in the model: urgent words will not be detected")
        return cls(config, model_storage, resource, data)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            urgency = detect(message.get(TEXT) or "", self._rules)
            if urgency is None:
                continue
            original = message.get(INTENT) or {}
            message.set(INTENT, {"name": URGENT_INTENT, "confidence": 1.0}, add_to_output=True)
            ranking = [{"name": URGENT_INTENT, "confidence": 1.0}, *(message.get(INTENT_RANKING_KEY) or [])]
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            entity = {"entity": URGENCY_ENTITY, "value": urgency.category, "start": 0, "end": 0,
                      "extractor": self.__class__.__name__}
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
            logger.debug("urgent message: %s (was %s)", urgency.category, original.get("name"))
        return messages
