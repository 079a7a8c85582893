"""Rasa component: count-vector features only for the messages the ResponseSelector reads.

Rasa's CountVectorsFeaturizer featurizes every message, token by token. In this pipeline only the
ResponseSelector reads those features, and it selects only for retrieval intents (``chitchat/*``,
``faq/*``: bot/nlu/retrieval_only.py); the topic classifier computes its own. This featurizer learns
its vocabulary from all the training data, as Rasa's does, but computes features only for messages
of a retrieval intent: at training, the retrieval examples; in a conversation, the messages the
intent classifier (placed before it in config.yml) ranked chitchat or faq. Those messages get the
very features they had before, so the selector is the same; the other ~97 % of the training
examples and most messages skip the work (about 35 s of a 2-core training).
"""
from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def intent_name(message: Message) -> str | None:
    """The message's intent: a plain name on a training example, a ranking entry after parsing."""
    intent = message.get(INTENT)
    if isinstance(intent, dict):
        intent = intent.get(INTENT_NAME_KEY)
    return intent if isinstance(intent, str) else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class RetrievalCountVectorsFeaturizer(CountVectorsFeaturizer):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The retrieval intents whose messages are featurized; training fails on any other.
        return {**CountVectorsFeaturizer.get_default_config(), "for_intents": ["chitchat", "faq"]}

    def _needed(self, message: Message) -> bool:
        return intent_name(message) in self._config["for_intents"]

    # The signature is Rasa's own: the graph checks these types.
    def train(self, training_data: TrainingData, model: SpacyModel | None = None) -> Resource:
        unknown = set(training_data.retrieval_intents) - set(self._config["for_intents"])
        if unknown:
            # Their messages would reach the ResponseSelector without features.
            raise ValueError(f"retrieval intents {sorted(unknown)} are not in for_intents of "
                             f"{self.__class__.__name__} (config.yml)")
        return super().train(training_data, model)

    # Rasa's process_training_data calls process on every training example: this one filters them.
    def process(self, messages: list[Message]) -> list[Message]:
        super().process([message for message in messages if self._needed(message)])
        return messages
