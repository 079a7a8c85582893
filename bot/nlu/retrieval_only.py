"""Rasa component: the ResponseSelector, run only for messages classified as a retrieval intent.

Rasa's ResponseSelector predicts a response for every message, although its answer is read
only when the intent is a retrieval intent (``chitchat``, staff-made ``faq``): the rules
answer those with ``utter_chitchat`` / ``utter_faq``, and ``bot.teaching.evaluate.topic_of``
reads the selector for ``faq`` alone. Skipping it for every other message took bench/load.py
on one machine from 33.3 to 51.6 messages/s. It sits after the intent classifier in config.yml, so
the intent it reads is that classifier's; training is unchanged.
"""
from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RetrievalOnlyResponseSelector(ResponseSelector):
    def _selects_for(self, message: Message) -> bool:
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if self.retrieval_intent:
            return intent == self.retrieval_intent
        return intent in self.all_retrieval_intents

    def process(self, messages: list[Message]) -> list[Message]:
        super().process([message for message in messages if self._selects_for(message)])
        return messages
