"""Rasa component: a staff-made FAQ reached by paraphrases that its few variants do not cover.

A staff FAQ (``faq/<slug>``, bot.teaching.staff_data) has about five question variants against
hundreds of examples for each rights topic, so the intent classifier rarely predicts ``faq`` for a worker's own
wording, and when it does, the ResponseSelector (shared with ``chitchat/*``) may pick a chitchat
answer. This component is a nearest-neighbour match on character n-gram TF-IDF vectors over
every training example. The message becomes intent ``faq`` with the nearest FAQ as the selected
response when either
- the intent classifier leans to ``faq`` (its intent, or its first-ranked intent when the FallbackClassifier gave
  up) and the nearest FAQ variant has at least ``min_similarity_when_faq``: the FAQ is chosen by
  its variants, not by the shared selector; or
- the nearest FAQ variant has at least ``min_similarity`` and is closer by ``min_lead`` than the
  nearest example of any other intent or FAQ (a rights topic keeps its question otherwise); when
  the FallbackClassifier gave up on the message, by ``min_lead_when_unsure`` (plain 1-NN).
- the intent classifier's first-ranked intent is one the staff FAQs refine (``refines``: the union's
  own services, union_assistance and union_membership, and chitchat): a staff FAQ is the union's
  local, specific answer where those topics give a general card. The nearest FAQ by its variants
  plus ``answer_weight`` times its answer text must reach ``min_similarity_refining``, and its
  nearest variant may trail the nearest non-FAQ example by at most ``-min_lead_refining``.
The intent's confidence is the similarity (mostly 0.2-0.5), so the console's teaching inbox lists
such messages as unsure, for staff to confirm as new FAQ examples. It sits after the
FallbackClassifier in config.yml and before the UrgencyDetector (urgent words still win).
Thresholds tuned on invented FAQs and paraphrases, never on bench/faq_cases.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY, RESPONSE_SELECTOR_PROPERTY_NAME, RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY, RESPONSE_SELECTOR_RETRIEVAL_INTENTS, RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY, TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.model_files import load_json, save_json

logger = logging.getLogger(__name__)

INDEX_FILE = "faq_index.json"
FALLBACK_INTENT = "nlu_fallback"
# Punctuation and sentence-final particles carry no subject: "工会健身房收费吗？" ~ "工会健身房收费".
_IGNORED = re.compile(r"[\s\W_的了吗呢啊吧呀嘛么]+")


def normalise(text: str) -> str:
    return _IGNORED.sub("", text.lower())


def char_ngrams(text: str, sizes: tuple[int, ...]) -> Counter[str]:
    text = normalise(text)
    return Counter(text[i:i + n] for n in sizes for i in range(len(text) - n + 1))


class NgramIndex:
    """Training texts as L2-normalised TF-IDF vectors (sublinear term frequency) of char n-grams."""

    def __init__(self, texts: list[str], sizes: tuple[int, ...]) -> None:
        self.sizes = sizes
        counts = [char_ngrams(text, sizes) for text in texts]
        df = Counter(gram for grams in counts for gram in grams)
        self.vocabulary = {gram: i for i, gram in enumerate(df)}
        self.idf = np.array([math.log((len(texts) + 1) / (df[gram] + 1)) + 1 for gram in self.vocabulary])
        self.unseen_idf = math.log(len(texts) + 1) + 1
        self.matrix = self.vectors(counts)

    def _weights(self, grams: Counter[str]) -> tuple[list[int], list[float]]:
        """Known n-grams' columns and normalised weights (unseen n-grams count in the norm only)."""
        columns, weights, squares = [], [], 0.0
        for gram, count in grams.items():
            column = self.vocabulary.get(gram)
            weight = (1 + math.log(count)) * (self.unseen_idf if column is None else self.idf[column])
            squares += weight * weight
            if column is not None:
                columns.append(column), weights.append(weight)
        norm = math.sqrt(squares) or 1.0
        return columns, [weight / norm for weight in weights]

    def vectors(self, counts: list[Counter[str]]) -> scipy.sparse.csc_matrix:
        rows, columns, values = [], [], []
        for row, grams in enumerate(counts):
            known, weights = self._weights(grams)
            rows += [row] * len(known)
            columns += known
            values += weights
        return scipy.sparse.csc_matrix((values, (rows, columns)), shape=(len(counts), len(self.vocabulary)))

    def similarities(self, text: str) -> np.ndarray:
        """Cosine similarity of ``text`` to every indexed text (only the query's columns are read)."""
        columns, weights = self._weights(char_ngrams(text, self.sizes))
        return self.matrix[:, columns] @ np.array(weights)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqMatcher(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"retrieval_intent": "faq", "ngram_sizes": [1, 2], "min_similarity": 0.25, "min_lead": 0.05,
                "min_lead_when_unsure": 0.0, "min_similarity_when_faq": 0.15,
                "refines": ["union_assistance", "union_membership", "chitchat"], "answer_weight": 1.0,
                "min_similarity_refining": 0.2, "min_lead_refining": -0.15}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 data: dict[str, Any] | None = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._data = data or {"texts": [], "labels": [], "responses": {}}
        self._labels, self._label_of_row = np.unique(np.array(self._data["labels"], dtype=str), return_inverse=True)
        self._faq_rows = np.char.startswith(self._labels, self._prefix)[self._label_of_row]
        self._index = (NgramIndex(self._data["texts"], tuple(config["ngram_sizes"]))
                       if self._faq_rows.any() else None)
        # Each FAQ's answer text, for the refining match (the words of the answer are words workers use).
        self._faq_labels = np.flatnonzero(np.char.startswith(self._labels, self._prefix))
        answers = [self._answer_text(str(self._labels[i])) for i in self._faq_labels]
        self._answers = NgramIndex(answers, tuple(config["ngram_sizes"])) if self._index is not None else None

    def _answer_text(self, key: str) -> str:
        responses = self._data["responses"].get(f"utter_{key}") or [{}]
        return str(responses[0].get("text") or "")

    @property
    def _prefix(self) -> str:
        return f"{self._config['retrieval_intent']}/"

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FaqMatcher:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = [], []
        for example in training_data.intent_examples:
            label = example.get(INTENT_RESPONSE_KEY) or example.get(INTENT)
            if example.get(TEXT) and label:
                texts.append(example.get(TEXT)), labels.append(label)
        prefix = f"utter_{self._prefix}"
        responses = {key: value for key, value in training_data.responses.items() if key.startswith(prefix)}
        save_json(self._model_storage, self._resource, INDEX_FILE,
                  {"texts": texts, "labels": labels, "responses": responses})
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> FaqMatcher:
        return cls(config, model_storage, resource, load_json(model_storage, resource, INDEX_FILE))

    def match(self, text: str, leans_to_faq: bool = False, unsure: bool = False,
              refining: bool = False) -> tuple[str, float] | None:
        """The FAQ (``faq/<slug>``) the text paraphrases, with its similarity, or None.

        ``leans_to_faq``: the classifier already chose (or first-ranked) the retrieval intent,
        so only the FAQ is to be picked; ``unsure``: the FallbackClassifier gave up;
        ``refining``: the classifier first-ranked an intent the staff FAQs refine.
        """
        if self._index is None or not normalise(text):
            return None
        similarity = self._index.similarities(text)
        best_row = int(np.argmax(np.where(self._faq_rows, similarity, -1.0)))
        key, best = str(self._labels[self._label_of_row[best_row]]), float(similarity[best_row])
        if leans_to_faq and best >= self._config["min_similarity_when_faq"]:
            return key, best
        rivals = similarity[self._label_of_row != self._label_of_row[best_row]]
        lead = best - (float(rivals.max()) if rivals.size else 0.0)
        min_lead = self._config["min_lead_when_unsure" if unsure else "min_lead"]
        if best >= self._config["min_similarity"] and lead >= min_lead:
            return key, best
        return self._refine(text, similarity) if refining else None

    def _refine(self, text: str, similarity: np.ndarray) -> tuple[str, float] | None:
        """The FAQ nearest by its variants and its answer, when near enough to the message."""
        assert self._answers is not None
        nearest = np.full(len(self._labels), -1.0)
        np.maximum.at(nearest, self._label_of_row, similarity)
        variants = nearest[self._faq_labels]
        scores = variants + self._config["answer_weight"] * self._answers.similarities(text)
        best = int(np.argmax(scores))
        others = similarity[~self._faq_rows]
        lead = variants[best] - (float(others.max()) if others.size else 0.0)
        if scores[best] >= self._config["min_similarity_refining"] and lead >= self._config["min_lead_refining"]:
            return str(self._labels[self._faq_labels[best]]), min(1.0, float(scores[best]))
        return None

    def _classified(self, message: Message) -> tuple[bool, bool, bool]:
        """(the intent classifier leans to the retrieval intent, the FallbackClassifier gave up,
        the classifier's intent is one the staff FAQs refine)."""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        unsure = intent == FALLBACK_INTENT
        if unsure:
            ranked = [r.get(INTENT_NAME_KEY) for r in message.get(INTENT_RANKING_KEY) or []
                      if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT]
            intent = ranked[0] if ranked else None
        return intent == self._config["retrieval_intent"], unsure, intent in self._config["refines"]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = self.match(message.get(TEXT) or "", *self._classified(message))
            if found is not None:
                self._answer(message, *found)
        return messages

    def _answer(self, message: Message, key: str, similarity: float) -> None:
        retrieval_intent = self._config["retrieval_intent"]
        before = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        intent = {INTENT_NAME_KEY: retrieval_intent, PREDICTED_CONFIDENCE_KEY: similarity}
        ranking = [intent, *(r for r in message.get(INTENT_RANKING_KEY) or []
                             if r.get(INTENT_NAME_KEY) != retrieval_intent)]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        utter_action = f"utter_{key}"
        prediction = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self._data["responses"].get(utter_action, []),
                PREDICTED_CONFIDENCE_KEY: similarity,
                INTENT_RESPONSE_KEY: key,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [{INTENT_RESPONSE_KEY: key, PREDICTED_CONFIDENCE_KEY: similarity}],
        }
        selectors = dict(message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {})
        selectors.setdefault(RESPONSE_SELECTOR_RETRIEVAL_INTENTS, [retrieval_intent])
        selectors[retrieval_intent] = prediction
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selectors, add_to_output=True)
        logger.debug("message matched %s (%.2f), was %s", key, similarity, before)
