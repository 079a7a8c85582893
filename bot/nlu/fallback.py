"""Rasa component: the FallbackClassifier that also asks back when the answer check doubts a topic.

Rasa's FallbackClassifier gives up on a message (intent ``nlu_fallback``: the bot asks back with
the best topics) when the first intent is below ``threshold`` or the first two are within
``ambiguity_threshold``. Real stories are often answered confidently with a neighbouring topic;
the TfidfIntentClassifier's answer check (its second model, the story's question clause, the
confidences) then estimates that the answer is probably wrong and marks the message
(bot.nlu.tfidf_classifier.DOUBTED). This classifier asks back on those messages too, so the worker
picks the topic instead of getting a wrong answer.
"""
from __future__ import annotations

import logging

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tfidf_classifier import DOUBTED

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AskBackFallback(FallbackClassifier):
    def _should_fallback(self, message: Message) -> bool:
        if super()._should_fallback(message):
            return True
        doubt = message.get(DOUBTED)
        if doubt is not None:
            logger.debug("answer check: %s doubted (%.2f), asking back", (message.get(INTENT) or {}).get("name"), doubt)
        return doubt is not None
