"""Rasa component: the sub-question a message asks within its topic (entity ``sub``).

Each topic's sub-answers (data/knowledge/subs/, bot.knowledge.subs) come with training questions;
they reach the NLU data as examples of the topic's intent with the sub-answer's id in the intent
block's metadata (bot.knowledge.generate), so the intent classifier learns the topic from them and
this component learns, per topic, which sub-answer a question is about: character 1–3-gram and
jieba word TF-IDF vectors and a logistic regression over that topic's sub-answers and an
``overview`` class (general questions built from the topic's title). When the message's intent is
such a topic and the best class is a sub-answer likely enough (``min_confidence``), the message
gets the entity ``sub`` with its id; otherwise none, and the topic's overview answers it (the
domain's ``sub`` slot falls back to ``overview``). A message the model could not place (the
FallbackClassifier's intent, or out of scope: the bot asks back with the best topics) gets a
``sub_guess`` entity ``<topic>/<sub>`` for each of its ``guesses`` best-ranked topics the model gives
some weight (``guess_min_topic_confidence``) with a likely sub-answer, so the ask-back's topic buttons lead to that sub-answer rather than the overview.
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
from rasa.shared.nlu.constants import (
    ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, METADATA, METADATA_INTENT, TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.knowledge.subs import OVERVIEW, SUB_ENTITY, SUB_GUESS_ENTITY
from bot.nlu.fast_tfidf import transform as tfidf
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
        features = hstack([tfidf(self.chars, [text]), tfidf(self.words, [tokens])]).tocsr()
        if getattr(self, "_probabilities", None) is None:
            self._probabilities = Probabilities(self.model)
        row = self._probabilities(features)[0]
        return sorted(zip((str(c) for c in self.model.classes_), (float(p) for p in row)), key=lambda x: -x[1])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class SubSelector(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_confidence": 0.25, "C": 10.0, "guesses": 3, "guess_min_topic_confidence": 0.15,
                "guess_for_intents": ["nlu_fallback", "out_of_scope"]}

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

    def guesses(self, ranking: list[dict[str, Any]], text: str, tokens: list[str]) -> list[tuple[str, str, float]]:
        """(topic, sub-answer, probability) for the best-ranked topics that have a likely sub-answer. A topic
        the model gives little weight is offered without a guess: within a topic the message is not about,
        the likeliest sub-answer means nothing (measured: "路上出了车祸…" gave 社会保险 0.03 → 转移接续)."""
        topics = [r.get(INTENT_NAME_KEY) for r in ranking if r.get(INTENT_NAME_KEY) in self._topics
                  and (r.get("confidence") or 0.0) >= self._config["guess_min_topic_confidence"]]
        found = []
        for topic in topics[: self._config["guesses"]]:
            chosen = self.choose(topic, text, tokens)
            if chosen is not None:
                found.append((topic, *chosen))
        return found

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            topic = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            text, tokens = message.get(TEXT) or "", _tokens(message)
            if topic in self._config["guess_for_intents"]:
                found = [(SUB_GUESS_ENTITY, f"{t}/{sub}", p)
                         for t, sub, p in self.guesses(message.get(INTENT_RANKING_KEY) or [], text, tokens)]
            else:
                chosen = self.choose(topic, text, tokens)
                found = [(SUB_ENTITY, *chosen)] if chosen is not None else []
            entities = [{"entity": name, "value": value, "start": 0, "end": len(text), "confidence": p}
                        for name, value, p in found]
            if entities:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), *self.add_extractor_name(entities)],
                            add_to_output=True)
        return messages
