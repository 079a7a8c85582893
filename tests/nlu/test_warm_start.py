"""A staff publish trains the intent classifier starting from the live model's fit
(bot/nlu/warm_start.py): the same answers as a fit from zero, in fewer solver iterations; a live
model that cannot be read means a fit from zero, never a failed publish."""
from __future__ import annotations

import logging
import tarfile
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.tfidf_classifier import MODEL_FILE, TfidfIntentClassifier
from bot.nlu.warm_start import WARM_START_ENV
from tests.conftest import ROOT
from tests.nlu.tokenized import tokenized

CONTEXT = ExecutionContext(GraphSchema({}), "test")
LIVE = {
    "wage_arrears": ["老板拖欠工资三个月了", "工资一直不发怎么办", "公司欠我两个月工资", "包工头跑了工钱要不回来",
                     "离职后公司不结工资", "工资被无故克扣了"],
    "social_insurance": ["公司不给交社保", "社保断缴了怎么办", "单位没给我买社会保险", "社保缴费基数按最低交的",
                         "入职半年还没交社保", "换工作社保怎么转"],
    "greet": ["你好", "您好", "在吗", "哈喽", "早上好", "你好啊"],
}
# What staff add before publishing: examples of known topics, and a new FAQ (a new intent here).
EXAMPLES = {"wage_arrears": ["干完活工地不给结钱"], "social_insurance": ["辞职了社保怎么办"]}
NEW_FAQ = {"faq": ["工会活动室几点开门", "活动室周末开不开", "职工书屋在哪借书", "工会图书室能借几本"]}
PROBES = ["老板不发工资", "社保没交", "你好呀", "活动室开门时间", "工钱一直拖着"]
CONFIG = {**TfidfIntentClassifier.get_default_config(), "min_df": 1,
          "topics_file": str(ROOT / "data" / "knowledge" / "topics.yml")}


def _train(examples: dict[str, list[str]], folder: Path) -> TfidfIntentClassifier:
    folder.mkdir(parents=True, exist_ok=True)
    storage, resource = LocalModelStorage(folder), Resource("train_TfidfIntentClassifier0")
    data = TrainingData([tokenized(t, intent) for intent, texts in examples.items() for t in texts])
    TfidfIntentClassifier.create(CONFIG, storage, resource, CONTEXT).train(data)
    return TfidfIntentClassifier.load(CONFIG, storage, resource, CONTEXT)


def _as_rasa_model(folder: Path, model_file: Path) -> Path:
    """The trained component packed the way a Rasa model archive holds it."""
    with tarfile.open(model_file, "w:gz") as archive:
        archive.add(folder / "train_TfidfIntentClassifier0" / MODEL_FILE,
                    arcname=f"components/train_bot.nlu.tfidf_classifier.TfidfIntentClassifier1/{MODEL_FILE}")
    return model_file


def _ranking(classifier: TfidfIntentClassifier) -> np.ndarray:
    parsed = classifier.process([tokenized(text) for text in PROBES])
    return np.array([[r["confidence"] for r in sorted(m.get("intent_ranking"), key=lambda r: r["name"])]
                     for m in parsed])


@pytest.fixture(scope="module")
def live_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("live")
    _train(LIVE, folder)
    return _as_rasa_model(folder, folder / "niangjia-live.tar.gz")


def _with(added: dict[str, list[str]]) -> dict[str, list[str]]:
    return {intent: LIVE.get(intent, []) + added.get(intent, []) for intent in {**LIVE, **added}}


def _intents(classifier: TfidfIntentClassifier) -> list[str]:
    return [m.get("intent")["name"] for m in classifier.process([tokenized(t) for t in PROBES])]


def test_a_publish_started_from_the_live_model_answers_as_a_fit_from_zero_sooner(live_model, tmp_path, monkeypatch):
    cold = _train(_with(EXAMPLES), tmp_path / "cold")
    monkeypatch.setenv(WARM_START_ENV, str(live_model))
    warm = _train(_with(EXAMPLES), tmp_path / "warm")
    assert np.abs(_ranking(warm) - _ranking(cold)).max() < 0.01
    assert _intents(warm)[:3] == ["wage_arrears", "social_insurance", "greet"]
    assert _intents(warm) == _intents(cold)
    assert warm._model.n_iter_[0] < cold._model.n_iter_[0]
    assert warm._second.n_iter_[0] < cold._second.n_iter_[0]
    assert not warm._model.warm_start  # the saved model is an ordinary one


def test_a_new_faq_is_learned_from_zero_beside_the_live_intents(live_model, tmp_path, monkeypatch):
    cold = _train(_with(NEW_FAQ), tmp_path / "cold")
    monkeypatch.setenv(WARM_START_ENV, str(live_model))
    warm = _train(_with(NEW_FAQ), tmp_path / "warm")
    assert list(warm._model.classes_) == list(cold._model.classes_) == ["faq", "greet", "social_insurance",
                                                                        "wage_arrears"]
    assert np.abs(_ranking(warm) - _ranking(cold)).max() < 0.01
    assert _intents(warm) == ["wage_arrears", "social_insurance", "greet", "faq", "wage_arrears"]


def test_an_unreadable_live_model_means_a_fit_from_zero(tmp_path, monkeypatch, caplog):
    broken = tmp_path / "niangjia-broken.tar.gz"
    broken.write_bytes(b"not a model")
    cold = _train(_with(NEW_FAQ), tmp_path / "cold")
    monkeypatch.setenv(WARM_START_ENV, str(broken))
    with caplog.at_level(logging.WARNING):
        again = _train(_with(NEW_FAQ), tmp_path / "again")
    assert "fitting from zero" in caplog.text
    assert again._model.n_iter_[0] == cold._model.n_iter_[0]
    assert np.abs(_ranking(again) - _ranking(cold)).max() < 1e-9
