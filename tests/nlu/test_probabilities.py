"""The classifiers' fast probabilities are scikit-learn's, for every kind of logistic regression."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.sub_selector import TopicSubs
from bot.nlu.tfidf_classifier import Probabilities

TEXTS = ["老板拖欠工资三个月", "工资一直不发", "周末加班没有加班费", "加班费怎么算", "被公司辞退了赔偿多少",
         "辞退补偿金怎么算", "工伤认定要多久", "在工地摔伤了算工伤吗"]
LABELS = ["wage_arrears", "wage_arrears", "overtime_pay", "overtime_pay", "dismissal", "dismissal",
          "work_injury", "work_injury"]
NEW = ["公司欠我工资", "晚上加班给钱吗", "摔伤了怎么办", "完全无关的一句话"]


@pytest.fixture(scope="module")
def vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)).fit(TEXTS)


@pytest.mark.parametrize("labels, options", [
    (LABELS, {}),  # multinomial, as the intent classifier and the sub-answer selector train it
    (LABELS, {"multi_class": "ovr"}),
    ([label == "wage_arrears" for label in LABELS], {}),  # binary
])
def test_the_probabilities_are_scikit_learns(vectorizer, labels, options) -> None:
    model = LogisticRegression(C=10, max_iter=1000, **options).fit(vectorizer.transform(TEXTS), labels)
    rows = vectorizer.transform(NEW)
    assert np.allclose(Probabilities(model)(rows), model.predict_proba(rows))


def test_a_saved_sub_answer_model_keeps_only_its_model_and_ranks_the_same_after_loading() -> None:
    subs = TopicSubs(TEXTS, [list(t) for t in TEXTS], LABELS, c=10)
    before = subs.rank("公司欠我工资", list("公司欠我工资"))
    loaded = pickle.loads(pickle.dumps(subs))
    assert loaded.__dict__["_probabilities"] is None
    assert loaded.rank("公司欠我工资", list("公司欠我工资")) == pytest.approx(before)
    assert before[0][0] == "wage_arrears"
