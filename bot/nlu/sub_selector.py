"""Rasa component: the sub-question a message asks within its topic (entity ``sub``).

Each topic's sub-answers (data/knowledge/subs/, bot.knowledge.subs) come with training questions;
they reach the NLU data as examples of the topic's intent with the sub-answer's id in the intent
block's metadata (bot.knowledge.generate), so the intent classifier learns the topic from them and
this component learns, per topic, which sub-answer a question is about: character 1–3-gram and
jieba word TF-IDF vectors and a logistic regression over that topic's sub-answers and an
``overview`` class (general questions built from the topic's title). When the message's intent is
such a topic and the best class is a sub-answer likely enough (``min_confidence``), the message
gets the entity ``sub`` with its id; otherwise none, and the topic's overview answers it (the
domain's ``sub`` slot falls back to ``overview``).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, METADATA, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.knowledge.subs import OVERVIEW, SUB_ENTITY
from bot.nlu.model_files import load_joblib, save_joblib
from bot.nlu.tfidf_classifier import Probabilities, _tokens, word_ngrams

logger = logging.getLogger(__name__)

MODEL_FILE = "sub_selector.joblib"


def example_sub(message: Message) -> str | None:
    """The sub-answer a training example belongs to (its intent block's metadata)."""
    metadata = message.get(METADATA) or {}
    return ((metadata.get(METADATA_INTENT) or {}).get(SUB_ENTITY)) or None


class TopicSubs:
    """One topic's sub-answer classifier (picklable)."""

    def __init__(self, texts: list[str], tokens: list[list[str]], labels: list[str], c: float) -> None:
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        self.words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True)
        features = hstack([self.chars.fit_transform(texts), self.words.fit_transform(tokens)]).tocsr()
        self.model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=42)
        self.model.fit(features, labels)
        self._probabilities: Probabilities | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_probabilities": None}  # rebuilt on first use, not saved twice

    def rank(self, text: str, tokens: list[str]) -> list[tuple[str, float]]:
        features = hstack([self.chars.transform([text]), self.words.transform([tokens])]).tocsr()
        if getattr(self, "_probabilities", None) is None:
            self._probabilities = Probabilities(self.model)
        row = self._probabilities(features)[0]
        return sorted(zip((str(c) for c in self.model.classes_), (float(p) for p in row)), key=lambda x: -x[1])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class SubSelector(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_confidence": 0.25, "C": 10.0}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 topics: dict[str, TopicSubs] | None = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._topics = topics or {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SubSelector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        grouped: dict[str, list[tuple[str, list[str], str]]] = defaultdict(list)
        for example in training_data.intent_examples:
            sub = example_sub(example)
            if sub and example.get(INTENT) and example.get(TEXT):
                grouped[example.get(INTENT)].append((example.get(TEXT), _tokens(example), sub))
        self._topics = {}
        for topic, rows in grouped.items():
            if len({sub for _, _, sub in rows}) < 2:
                logger.debug("topic %s has fewer than two sub-answers: no selector", topic)
                continue
            texts, tokens, labels = (list(column) for column in zip(*rows))
            self._topics[topic] = TopicSubs(texts, tokens, labels, self._config["C"])
        save_joblib(self._model_storage, self._resource, MODEL_FILE, self._topics)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SubSelector:
        topics = load_joblib(model_storage, resource, MODEL_FILE)
        if topics is None:
            logger.warning("no sub-answer model in the trained model: topics answer with their overview")
        return cls(config, model_storage, resource, topics)

    def choose(self, topic: str | None, text: str, tokens: list[str]) -> tuple[str, float] | None:
        """The sub-answer of ``topic`` the text asks about, with its probability, or None."""
        selector = self._topics.get(topic or "")
        if selector is None or not text.strip():
            return None
        best, confidence = selector.rank(text, tokens)[0]
        return (best, confidence) if best != OVERVIEW and confidence >= self._config["min_confidence"] else None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            topic = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            chosen = self.choose(topic, message.get(TEXT) or "", _tokens(message))
            if chosen is None:
                continue
            sub, confidence = chosen
            entity = {"entity": SUB_ENTITY, "value": sub, "start": 0, "end": len(message.get(TEXT) or ""),
                      "confidence": confidence}
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), self.add_extractor_name([entity])[0]],
                        add_to_output=True)
        return messages
