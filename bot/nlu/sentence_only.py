"""Rasa component: keep only sentence-level text features for the ResponseSelector.

With ``number_of_transformer_layers: 0`` (see config.yml) the ResponseSelector classifies from the
sentence-level position alone; the token-level (sequence) features still go through
their own sparse-to-dense and feed-forward layers on every training step and are then
thrown away. Rasa requires some sequence feature, so each message keeps a one-column
zero placeholder: the result is the same classifier, trained without the wasted work.
"""
from __future__ import annotations

from typing import Any

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SEQUENCE, RESPONSE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

ATTRIBUTES = (TEXT, RESPONSE)
ORIGIN = "SentenceFeaturesOnly"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceFeaturesOnly(GraphComponent):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceFeaturesOnly:
        return cls()

    @staticmethod
    def _strip(message: Message) -> None:
        for attribute in ATTRIBUTES:
            if not any(f.attribute == attribute and f.type == FEATURE_TYPE_SEQUENCE for f in message.features):
                continue
            message.features = [f for f in message.features
                                if not (f.attribute == attribute and f.type == FEATURE_TYPE_SEQUENCE)]
            placeholder = scipy.sparse.coo_matrix((1, 1))
            message.features.append(Features(placeholder, FEATURE_TYPE_SEQUENCE, attribute, ORIGIN))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._strip(message)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._strip(message)
        return messages
