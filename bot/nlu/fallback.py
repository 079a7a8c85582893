"""Rasa component: the FallbackClassifier that also asks back when the two intent models disagree.

Rasa's FallbackClassifier gives up on a message (intent ``nlu_fallback``: the bot asks back with
the best topics) when the first intent is below ``threshold`` or the first two are within
``ambiguity_threshold``. Real stories are often answered confidently with a neighbouring topic;
the TfidfIntentClassifier's second model (other features) then tends to rank another intent
first, or the story's question clause read alone is confidently about another topic, and the
classifier marks the message (bot.nlu.tfidf_classifier.SECOND_OPINION). This classifier asks
back on those messages too, so the worker picks between the two readings instead of getting the
wrong answer.
"""
from __future__ import annotations

import logging

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tfidf_classifier import SECOND_OPINION

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AskBackFallback(FallbackClassifier):
    def _should_fallback(self, message: Message) -> bool:
        if super()._should_fallback(message):
            return True
        other = message.get(SECOND_OPINION)
        if other:
            logger.debug("the intent models disagree (%s, %s): asking back",
                         (message.get(INTENT) or {}).get("name"), other)
        return bool(other)
