"""Model evaluation: the topic contract, scoring, and the cache beside the model."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.teaching import evaluate
from bot.teaching.evaluate import (
    EvalResult, EvaluationFailed, cache_path, cached_result, evaluate_in_subprocess,
    prune_orphan_caches, score, topic_of,
)


def _faq_parse(key: str, selector: str = "faq") -> dict:
    return {"intent": {"name": "faq"},
            "response_selector": {selector: {"response": {"intent_response_key": key}}}}


@pytest.mark.parametrize("parse, topic", [
    ({"intent": {"name": "wage_arrears"}}, "wage_arrears"),
    ({"intent": {"name": "nlu_fallback"}}, "out_of_scope"),
    ({"intent": {"name": "out_of_scope"}}, "out_of_scope"),
    ({"intent": None}, "out_of_scope"),
    (_faq_parse("faq/annual_leave"), "annual_leave"),
    # One ResponseSelector for all retrieval intents answers under "default".
    (_faq_parse("faq/office_hours", selector="default"), "office_hours"),
    ({"intent": {"name": "faq"}, "response_selector": {}}, "faq"),
])
def test_parse_maps_to_a_topic_by_the_contract(parse, topic):
    assert topic_of(parse) == topic


def test_score_counts_rejection_as_right_for_out_of_scope_and_reads_faq_labels():
    pairs = [("out_of_scope", topic_of({"intent": {"name": "nlu_fallback"}})),
             ("faq/office_hours", "office_hours"),
             ("wage_arrears", "overtime_pay"),
             ("greet", "greet")]
    assert score(pairs) == EvalResult(3, 4, 0.75)
    assert score([]) == EvalResult(0, 0, 0.0)


def test_a_union_service_question_a_staff_faq_answers_counts_as_refined():
    pairs = [("union_membership", "union_dues"),  # a staff FAQ took a union question: refined
             ("wage_arrears", "union_dues"),  # a rights question taken by a FAQ stays wrong
             ("union_membership", "chitchat"),  # not a staff FAQ
             ("union_assistance", "union_assistance")]
    result = score(pairs, staff_faqs=frozenset({"union_dues"}),
                   refines=frozenset({"union_membership", "union_assistance"}))
    assert result == EvalResult(2, 4, 0.5, refined=1)
    assert score(pairs) == EvalResult(1, 4, 0.25)


def _files(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "niangjia-abc.tar.gz"
    model.write_bytes(b"model")
    tests = tmp_path / "test_set.yml"
    tests.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n', encoding="utf-8")
    return model, tests


def test_a_cached_result_is_used_without_loading_the_model(tmp_path, monkeypatch):
    model, tests = _files(tmp_path)
    evaluate._store_result(model, [tests], EvalResult(9, 10, 0.9))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("evaluated again"))
    assert evaluate_in_subprocess(model, [tests]) == EvalResult(9, 10, 0.9)


def test_the_cache_is_keyed_by_the_test_files(tmp_path):
    model, tests = _files(tmp_path)
    evaluate._store_result(model, [tests], EvalResult(9, 10, 0.9))
    tests.write_text(tests.read_text(encoding="utf-8") + "    - hi\n", encoding="utf-8")
    assert cached_result(model, [tests]) is None
    assert cache_path(model).name == "niangjia-abc.tar.gz.eval.json"


def test_caches_of_removed_models_are_pruned(tmp_path):
    model, tests = _files(tmp_path)
    evaluate._store_result(model, [tests], EvalResult(1, 1, 1.0))
    orphan = tmp_path / "niangjia-gone.tar.gz.eval.json"
    orphan.write_text("{}", encoding="utf-8")
    prune_orphan_caches(tmp_path)
    assert cache_path(model).exists() and not orphan.exists()


def test_a_failed_evaluation_raises(tmp_path):
    model, tests = _files(tmp_path)  # not a model: Rasa cannot load it
    with pytest.raises(EvaluationFailed):
        evaluate_in_subprocess(model, [tests], timeout=300)


@pytest.mark.slow
def test_the_trained_model_is_evaluated_in_a_subprocess(trained_model, tmp_path):
    tests = tmp_path / "test_set.yml"
    tests.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n', encoding="utf-8")
    model = tmp_path / trained_model.name
    model.symlink_to(trained_model)
    result = evaluate_in_subprocess(model, [tests])
    assert result == EvalResult(1, 1, 1.0)
    assert json.loads(cache_path(model).read_text(encoding="utf-8"))
