"""Rasa component: the intent classifier, TF-IDF n-grams and a logistic regression (scikit-learn).

Real consultations are 40–120 characters of story with the question at the end. Rasa's counts
(CountVectorsFeaturizer) grow with the length of the message, and DIET on them read long stories
as out of scope or small talk. Here each message is a TF-IDF vector with sublinear term frequency
and unit length — character 1–3-grams of the text and jieba word 1–2-grams (the tokens of the
JiebaTokenizer before it) — so a long story weighs as much as a short question, and a
class-balanced logistic regression ranks the intents. Measured with bench/nlu_accuracy.py (see
config.yml); it trains in a minute or two on 2 cores and parses in two to three milliseconds.
Real questions are stories, so training examples of at least ``long_min_chars`` characters can count
``long_weight`` times in the fits (config.yml keeps 1: see the README's "Measured").

Retrieval intents (``chitchat``, staff ``faq``) are classified by their base name, as DIET does;
the ResponseSelector after it picks the response.

The answer check: a topic answer is given only when it is probably right; otherwise the message is
marked ``DOUBTED`` and bot.nlu.fallback.AskBackFallback asks back ("你想问的是哪一个？") instead.
Real stories are often answered confidently with a neighbouring topic, and the confidence alone does
not tell them apart. The evidence (``answer_evidence``): the first intent's confidence and its lead
over the second; what a smaller second model on other features (character unigrams and the same
jieba word n-grams) gives the same intent; and the story's question clause read alone (its last
clauses of at least ``clause_min_chars`` characters, a story's question comes at its end): what it
gives the intent and how sure it is of its own best reading. A logistic model of these five numbers
(``answer_weights``, ``answer_bias``) estimates the probability that the answer is right; below
``answer_min_probability`` the message is asked back. The weights are fitted by bench/calibrate.py
on cross-validated predictions of the training data (never on the evaluation sets).
"""
from __future__ import annotations

import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import numpy as np
from scipy.sparse import hstack
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.knowledge.topics import load_topics
from bot.nlu.fast_tfidf import transform as tfidf
from bot.nlu.model_files import load_joblib, save_joblib
from bot.nlu.warm_start import WARM_START_ENV, feature_names, parts_in, start_from, warm

logger = logging.getLogger(__name__)

MODEL_FILE = "tfidf_intents.joblib"
# Message property (not in the parse output): set on a topic answer that the answer check doubts, to
# the estimated probability that the answer is right.
DOUBTED = "intent_doubted"
# The evidence of the answer check, in the order of ``answer_weights``.
EVIDENCE = ("confidence", "lead", "second_model", "clause", "clause_best")
# A clause: the text between Chinese or Western punctuation and spaces.
_CLAUSE = re.compile(r"[^，。？！、；：,.?!;:\s]+")


def word_ngrams(tokens: list[str], n: int = 2) -> list[str]:
    """Word unigrams and bigrams of a token list (module level: the vectorizer is pickled)."""
    grams = list(tokens)
    for size in range(2, n + 1):
        grams += [" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)]
    return grams


class Probabilities:
    """``model.predict_proba`` for sparse rows, without its per-call cost.

    scikit-learn multiplies the features by ``coef_.T`` and scipy copies that transposed view into
    a contiguous array on every call: with 77,000 features × 41 intents that is 25 MB and 8 ms per
    message, most of the Rasa server's time under load. The transposed weights are made contiguous
    once here; the probabilities are the same (a multinomial model's softmax). Binary and
    one-vs-rest models are left to scikit-learn.
    """

    def __init__(self, model: LogisticRegression) -> None:
        self.model = model
        multinomial = (len(model.classes_) > 2 and getattr(model, "multi_class", "auto") in ("auto", "multinomial")
                       and model.solver != "liblinear")
        self._weights = np.ascontiguousarray(model.coef_.T) if multinomial else None

    def __call__(self, features: Any) -> np.ndarray:
        if self._weights is None:
            return self.model.predict_proba(features)
        return softmax(np.asarray(features @ self._weights) + self.model.intercept_, axis=1)


def _names_or_none(parts: dict[str, Any], *keys: str) -> list[str] | None:
    vectorizers = [parts.get(key) for key in keys]
    if any(getattr(v, "vocabulary_", None) is None for v in vectorizers):
        return None
    return feature_names(vectorizers)


def _tokens(message: Message) -> list[str]:
    return [t.text for t in message.get(TOKENS_NAMES[TEXT]) or []]


def question_clause(text: str, min_chars: int) -> int | None:
    """Where the message's last clauses of at least ``min_chars`` characters (punctuation not
    counted) begin, or None when they would be the whole message."""
    clauses = [m.span() for m in _CLAUSE.finditer(text)]
    length = 0
    for index in range(len(clauses) - 1, -1, -1):
        start, end = clauses[index]
        length += end - start
        if length >= min_chars:
            return start if index > 0 else None
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfIntentClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 30.0, "char_ngrams": [1, 3], "min_df": 2, "max_iter": 3000,
                "class_weight": "balanced", "ranking_length": 10, "random_state": 42,
                # the second model (its confidence in the answer is evidence of the answer check)
                "second_opinion": True,
                # the answer check is made on answers of these topics (ids of the file)
                "topics_file": "data/knowledge/topics.yml",
                # the question clause read alone (0: not read; the whole message stands for it)
                "clause_min_chars": 15,
                # the answer check (bench/calibrate.py): weights of EVIDENCE, bias, and the probability
                # below which a topic answer is asked back (0 turns the check off)
                "answer_weights": [-2.72, 4.23, 2.74, 1.6, -1.63], "answer_bias": -0.09,
                "answer_min_probability": 0.72,
                # training examples of at least ``long_min_chars`` characters (stories, the way real
                # consultations read) count ``long_weight`` times in both regressions' fits
                "long_weight": 1.0, "long_min_chars": 40}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 parts: dict[str, Any] | None = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        parts = parts or {}
        self._chars: TfidfVectorizer | None = parts.get("chars")
        self._words: TfidfVectorizer | None = parts.get("words")
        self._model: LogisticRegression | None = parts.get("model")
        self._probabilities = Probabilities(self._model) if self._model is not None else None
        self._unigrams: TfidfVectorizer | None = parts.get("unigrams")
        self._second: LogisticRegression | None = parts.get("second")
        self._second_scores = Probabilities(self._second) if self._second is not None else None
        self._topics: frozenset[str] = frozenset(parts.get("topics") or ())

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TfidfIntentClassifier:
        return cls(config, model_storage, resource)

    def _features(self, messages: list[Message], fit: bool = False) -> tuple[Any, Any]:
        """The main model's features and the second model's (None without a second model)."""
        texts = [m.get(TEXT) or "" for m in messages]
        tokens = [_tokens(m) for m in messages]
        if fit:
            low, high = self._config["char_ngrams"]
            min_df = self._config["min_df"]
            self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(low, high), sublinear_tf=True,
                                          min_df=min_df)
            self._words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, min_df=min_df)
            self._unigrams = (TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 1), sublinear_tf=True,
                                              min_df=min_df) if self._config["second_opinion"] else None)
            chars, words = self._chars.fit_transform(texts), self._words.fit_transform(tokens)
            unigrams = self._unigrams.fit_transform(texts) if self._unigrams is not None else None
        else:
            assert self._chars is not None and self._words is not None
            chars, words = tfidf(self._chars, texts), tfidf(self._words, tokens)
            unigrams = tfidf(self._unigrams, texts) if self._unigrams is not None else None
        second = hstack([unigrams, words]).tocsr() if unigrams is not None else None
        return hstack([chars, words]).tocsr(), second

    def _classifier(self) -> LogisticRegression:
        return LogisticRegression(C=self._config["C"], max_iter=self._config["max_iter"],
                                  class_weight=self._config["class_weight"],
                                  random_state=self._config["random_state"])

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("no intent examples: %s not trained", self.__class__.__name__)
            return self._resource
        features, second = self._features(examples, fit=True)
        labels = [e.get(INTENT) for e in examples]
        weights = self._sample_weights(examples)
        main_start, second_start = self._warm_starts(labels)
        # The two models are independent: fitted side by side (the same models; on 2 cores the two
        # fits take ~100 s instead of ~125 s, which is most of a staff publish's training).
        with ThreadPoolExecutor(max_workers=2) as pool:
            main = pool.submit(warm(self._classifier(), main_start).fit, features, labels, weights)
            other = (pool.submit(warm(self._classifier(), second_start).fit, second, labels, weights)
                     if second is not None else None)
            self._model = main.result()
            self._second = other.result() if other is not None else None
        for model in (self._model, self._second):
            if model is not None:
                model.set_params(warm_start=False)
        self._probabilities = Probabilities(self._model)
        self._second_scores = Probabilities(self._second) if self._second is not None else None
        self._topics = frozenset(t.id for t in load_topics(Path(self._config["topics_file"])))
        save_joblib(self._model_storage, self._resource, MODEL_FILE,
                    {"chars": self._chars, "words": self._words, "model": self._model,
                     "unigrams": self._unigrams, "second": self._second, "topics": sorted(self._topics)})
        return self._resource

    def _sample_weights(self, examples: list[Message]) -> np.ndarray:
        """Each example's weight in the fits: ``long_weight`` for a story of at least
        ``long_min_chars`` characters, else 1 (real questions are mostly stories)."""
        minimum, weight = int(self._config["long_min_chars"]), float(self._config["long_weight"])
        return np.array([weight if len(e.get(TEXT) or "") >= minimum else 1.0 for e in examples])

    def _warm_starts(self, labels: list[str]) -> tuple[Any, Any]:
        """Where the main and the second regression begin: the model named in ``WARM_START_ENV``
        (a staff publish names the live one, bot.nlu.warm_start), else at zero."""
        model_file = os.environ.get(WARM_START_ENV)
        if not model_file:
            return None, None
        previous = parts_in(Path(model_file), self.__class__.__name__, MODEL_FILE)
        if previous is None:
            return None, None
        new_main = feature_names([self._chars, self._words])
        old_main = _names_or_none(previous, "chars", "words")
        main = start_from(previous.get("model"), old_main, new_main, labels)
        second = None
        if self._unigrams is not None:
            second = start_from(previous.get("second"), _names_or_none(previous, "unigrams", "words"),
                                feature_names([self._unigrams, self._words]), labels)
        return main, second

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> TfidfIntentClassifier:
        parts = load_joblib(model_storage, resource, MODEL_FILE)
        if parts is None:
            logger.warning("no intent model in the trained model: every message will be a fallback")
        return cls(config, model_storage, resource, parts)

    def _second_rows(self, features: Any, count: int) -> list[np.ndarray | None]:
        """The second model's probabilities of each message, in the main model's order of intents
        (None without a second model)."""
        if features is None or self._model is None or self._second is None or self._second_scores is None:
            return [None] * count
        index = {str(name): i for i, name in enumerate(self._second.classes_)}
        order = [index[str(name)] for name in self._model.classes_]
        return list(self._second_scores(features)[:, order])

    def _rank(self, messages: list[Message]) -> list[tuple[list[dict], np.ndarray, np.ndarray | None]]:
        """Each message's intent ranking, the main model's probabilities and the second model's."""
        assert self._model is not None and self._probabilities is not None
        features, second = self._features(messages)
        probabilities = self._probabilities(features)
        names = [str(c) for c in self._model.classes_]
        ranked = []
        for row, second_row in zip(probabilities, self._second_rows(second, len(messages))):
            ranking = sorted(({"name": n, "confidence": float(p)} for n, p in zip(names, row)),
                             key=lambda entry: -entry["confidence"])[: self._config["ranking_length"]]
            ranked.append((ranking, row, second_row))
        return ranked

    def answer_evidence(self, messages: list[Message]) -> list[tuple[str, np.ndarray] | None]:
        """The topic each message would be answered with and the answer check's evidence of it
        (EVIDENCE); None for a message whose first intent is not a topic."""
        if self._model is None or self._probabilities is None or not messages:
            return [None] * len(messages)
        return [(ranking[0]["name"], self._evidence(message, row, second_row))
                if ranking[0]["name"] in self._topics else None
                for message, (ranking, row, second_row) in zip(messages, self._rank(messages))]

    def _evidence(self, message: Message, row: np.ndarray, second_row: np.ndarray | None) -> np.ndarray:
        best, runner_up = np.argsort(-row)[:2]
        confidence = row[best]
        clause = self._clause_row(message)
        return np.array([confidence, confidence - row[runner_up],
                         second_row[best] if second_row is not None else confidence,
                         clause[best] if clause is not None else confidence,
                         clause.max() if clause is not None else confidence])

    def answer_probability(self, evidence: np.ndarray) -> float:
        """The estimated probability that a topic answer with this evidence is right."""
        score = float(np.dot(self._config["answer_weights"], evidence)) + float(self._config["answer_bias"])
        return float(1.0 / (1.0 + np.exp(-score)))

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None or self._probabilities is None or not messages:
            return messages
        minimum = float(self._config["answer_min_probability"])
        for message, (ranking, row, second_row) in zip(messages, self._rank(messages)):
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if minimum <= 0 or ranking[0]["name"] not in self._topics:
                continue
            probability = self.answer_probability(self._evidence(message, row, second_row))
            if probability < minimum:
                logger.debug("answer check: %s right with %.2f only", ranking[0]["name"], probability)
                message.set(DOUBTED, probability)
        return messages

    def _clause_row(self, message: Message) -> np.ndarray | None:
        """The main model's probabilities of the question clause read alone (None: no clause)."""
        min_chars = int(self._config["clause_min_chars"])
        text = message.get(TEXT) or ""
        start = question_clause(text, min_chars) if min_chars > 0 else None
        if start is None or self._chars is None or self._words is None or self._probabilities is None:
            return None
        tokens = [t.text for t in message.get(TOKENS_NAMES[TEXT]) or [] if t.start >= start]
        features = hstack([tfidf(self._chars, [text[start:]]), tfidf(self._words, [tokens])]).tocsr()
        return self._probabilities(features)[0]
