"""Stories with several problems, and numbers the worker did not give now (issue 18 item 6),
through real Rasa, actions and the WeChat channel.

A story that raises three problems or more gets all of them: the main one answered and the others
as buttons, or (when the model cannot tell which is the main one) all of them to pick from; with a
way to a person either way. A later calculation that reuses a number of an earlier question says so.
Double wages (劳动合同法 第82条, 实施条例 第6条-第7条): 18 months without a contract -> 11 months'
wage at most: 11 × 6000 = 66000, 11 × 5000 = 55000.
"""
from __future__ import annotations

import uuid

import pytest

from tests.channels.test_wechat_e2e import Worker
from tests.conftest import Stack

pytestmark = pytest.mark.slow

HUMAN = ("转人工", "/request_human")


def worker() -> str:
    return f"several-{uuid.uuid4().hex}"


def text(replies: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in replies)


def buttons(replies: list[dict]) -> list[tuple[str, str]]:
    return [(b.get("title"), b.get("payload")) for m in replies for b in m.get("buttons") or []]


def topics_reached(replies: list[dict]) -> set[str]:
    """The topics answered (their tag) or offered as a button ("/<topic>")."""
    tagged = {(m.get("custom") or {}).get("topic") for m in replies}
    offered = {payload[1:] for _, payload in buttons(replies) if payload and payload[1:].isidentifier()}
    return (tagged | offered) - {None}


@pytest.mark.parametrize("story, raised", [
    ("没签合同，每天上12个小时班，周末也上班，现在被辞退了，工资也没发",
     {"labour_contract", "dismissal_compensation", "wage_arrears"}),
    ("在厂里干了两年，一直没签劳动合同，也没交社保，上个月老板把我开除了，还欠我两个月工资",
     {"labour_contract", "social_insurance", "dismissal_compensation", "wage_arrears"}),
    ("老板一直不给交社保，加班费也从来不算，这个月又把我辞退了",
     {"social_insurance", "overtime_pay", "dismissal_compensation"}),
])
def test_a_story_with_several_problems_gets_them_all_and_a_person(servers: Stack, story, raised):
    sender = worker()
    replies = servers.answer(sender, story)
    said = text(replies)
    assert "你的情况里还涉及" in said or "涉及好几个问题" in said, said
    assert raised <= topics_reached(replies), (raised, topics_reached(replies))
    assert HUMAN in buttons(replies)
    # a button answers its topic at once
    answered = {(m.get("custom") or {}).get("topic") for m in replies}
    picked = next(t for t in sorted(raised) if t not in answered)
    assert picked in {(m.get("custom") or {}).get("topic") for m in servers.answer(sender, f"/{picked}")}


def test_a_story_with_one_problem_keeps_its_plain_answer(servers: Stack):
    replies = servers.answer(worker(), "在这家厂干了三年，上个月被公司开除了，经济补偿一分没给")
    assert "dismissal_compensation" in {(m.get("custom") or {}).get("topic") for m in replies}
    assert "你的情况里还涉及" not in text(replies) and "涉及好几个问题" not in text(replies)


def test_a_wechat_worker_picks_from_the_numbered_menu(servers: Stack, fake_wechat_api):
    wechat = Worker(servers.wechat(), fake_wechat_api)
    shown = wechat.say("在厂里干了两年，一直没签劳动合同，也没交社保，上个月老板把我开除了，还欠我两个月工资")
    assert "转人工" in shown and "拖欠工资" in shown
    assert "不得克扣或无故拖欠" in wechat.say(wechat.option(shown, "拖欠工资"))


def test_a_wage_from_an_earlier_question_is_named_never_reused_silently(servers: Stack):
    sender = worker()
    first = "\n".join(servers.say(sender, "我月薪6000，在这干了三年，上个月被公司辞退了，能拿多少补偿"))
    assert "18000" in first                                   # 3 years -> 3 months' wage (第47条)
    later = "\n".join(servers.say(sender, "干了一年半了，公司一直没跟我签劳动合同，能要多少钱"))
    assert "66000" in later
    assert "按你前面说的月薪6000元" in later
    corrected = "\n".join(servers.say(sender, "不对，我现在月薪是5000"))
    assert "55000" in corrected and "前面说的" not in corrected
