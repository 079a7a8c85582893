"""bot/nlu/fast_tfidf.py: the intent classifier's and sub-answer selector's TF-IDF, without scikit-learn's
per-call cost, gives the numbers scikit-learn gives."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.fast_tfidf import transform

TRAINING = ["公司拖欠工资三个月了怎么办", "加班费怎么算", "工伤认定要多久", "试用期被辞退有补偿吗",
            "老板不给加班费还拖欠工资", "社保断缴了怎么补"]
MESSAGES = ["我在工地干活摔伤了，包工头不给钱，工伤怎么认定？", "加班费", "", "🙂 工资 工资 工资", "完全没见过的词"]


@pytest.mark.parametrize("options", [
    {"analyzer": "char_wb", "ngram_range": (1, 3), "sublinear_tf": True},
    {"analyzer": "char_wb", "ngram_range": (1, 1), "sublinear_tf": True, "min_df": 2},
    {"analyzer": "char", "ngram_range": (1, 2), "sublinear_tf": False, "norm": None},
    {"analyzer": "char", "ngram_range": (2, 2), "use_idf": False},
])
def test_the_same_features_as_scikit_learn(options):  # type: ignore[no-untyped-def]
    vectorizer = TfidfVectorizer(**options).fit(TRAINING)
    ours, theirs = transform(vectorizer, MESSAGES), vectorizer.transform(MESSAGES)
    assert ours.shape == theirs.shape and abs(ours - theirs).max() < 1e-12
    assert ours.nnz == theirs.nnz > 0


def test_word_lists_as_the_classifier_passes_them():
    vectorizer = TfidfVectorizer(analyzer=lambda words: words + [a + b for a, b in zip(words, words[1:])],
                                 sublinear_tf=True).fit([["公司", "拖欠", "工资"], ["加班费", "怎么", "算"]])
    words = [["拖欠", "工资", "工资"], ["加班费"]]
    assert abs(transform(vectorizer, words) - vectorizer.transform(words)).max() < 1e-12


def test_a_vectorizer_fitted_again_is_weighed_with_its_new_idf():
    vectorizer = TfidfVectorizer(analyzer="char", sublinear_tf=True).fit(TRAINING)
    before = transform(vectorizer, ["工资加班"]).toarray()
    vectorizer.fit(TRAINING + ["工资"] * 20)
    after = transform(vectorizer, ["工资加班"])
    assert abs(after - vectorizer.transform(["工资加班"])).max() < 1e-12
    assert not np.allclose(before, after.toarray())
