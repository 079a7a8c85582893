"""Topic signal words: which topics a message names outright (data/knowledge/signals.yml)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.signals import load_signals, mentioned_topics, second_topic
from bot.knowledge.topics import load_topics


def test_a_complaint_names_its_topic():
    assert mentioned_topics("我要投诉老板不给加班费") == ["overtime_pay"]
    assert mentioned_topics("我要投诉公司拖欠工资") == ["wage_arrears"]
    assert mentioned_topics("我要投诉") == []


def test_topics_come_in_the_order_written():
    assert mentioned_topics("没签合同又不交社保") == ["labour_contract", "social_insurance"]
    assert mentioned_topics("社保没交，也没签合同") == ["social_insurance", "labour_contract"]


def test_latin_forms_match_in_any_case():
    assert mentioned_topics("公司说给n+1") == ["dismissal_compensation"]


def test_every_signal_topic_is_a_topic_and_no_form_names_two():
    signals = load_signals()
    assert set(signals) <= {t.id for t in load_topics()}
    forms = [form for forms in signals.values() for form in forms]
    assert len(forms) == len(set(forms))


def test_a_broken_file_is_refused(tmp_path: Path):
    bad = tmp_path / "signals.yml"
    bad.write_text("topics: [a, b]", encoding="utf-8")
    with pytest.raises(ValueError, match="topics"):
        load_signals(bad)


def ranking(*names: str) -> list[dict]:
    return [{"name": name, "confidence": 0.5 / (i + 1)} for i, name in enumerate(names)]


def test_a_second_topic_is_offered_when_named_and_ranked_close():
    text = "公司没跟我签合同，也一直不交社保，我该怎么办"
    assert second_topic("labour_contract", ranking("labour_contract", "social_insurance", "out_of_scope"),
                        text) == "social_insurance"
    # named in passing but far down the model's ranking: not offered
    far = ranking("labour_contract", "probation", "resignation", "wage_arrears", "social_insurance")
    assert second_topic("labour_contract", far, text) is None
    # one topic only, or not answered as a topic
    assert second_topic("labour_contract", ranking("labour_contract", "social_insurance"), "公司没跟我签合同") is None
    assert second_topic("request_human", ranking("request_human", "social_insurance"), text) is None
