"""Sub-question answers through real Rasa and actions: the worker's specific question gets its own
answer; a question that names only the topic gets the overview with the sub-answers as buttons."""
from __future__ import annotations

import uuid

import pytest

from bot.channels.common import folded_details
from bot.knowledge.generate import MAX_SUB_BUTTONS
from bot.knowledge.subs import all_subs, sub_payload
from tests.conftest import Stack

pytestmark = pytest.mark.slow


def tags(replies: list[dict]) -> list[dict]:
    """The replies' tags ({topic, sub}), without the statutes folded beside them."""
    return [{k: v for k, v in m["custom"].items() if k != "details"} for m in replies if m.get("custom")]


def text(replies: list[dict]) -> str:
    """What the worker can read: the texts and the statutes folded behind "查看依据"."""
    return "\n".join(m.get("text") or folded_details(m) or "" for m in replies)


def worker() -> str:
    return f"subs-{uuid.uuid4().hex}"


@pytest.mark.parametrize("question, topic, sub, says", [
    ("老板压根没给我们交工伤保险，我在车间被机器轧伤了手，医药费谁出", "work_injury", "uninsured", "第62条"),
    ("早上骑电瓶车去厂里的路上被一辆货车撞了，这个能算工伤吗", "work_injury", "commute", "非本人主要责任"),
    ("跟着包工头在工地干了半年，他卷钱跑了一分工钱没给，能找上面的公司要吗", "wage_arrears", "labour_contractor", "清偿"),
])
def test_a_specific_question_gets_its_own_answer(servers: Stack, question, topic, sub, says):
    replies = servers.answer(worker(), question)
    assert {"topic": topic, "sub": sub} in tags(replies)
    assert says in text(replies)


@pytest.mark.parametrize("question, topic", [
    ("加班工资咋算的", "overtime_pay"),         # not the rest-day sub-answer (200 % only)
    ("女的生孩子放多少天假", "maternity"),       # not the one on difficult births
    ("年休假是怎么回事", "annual_leave"),
])
def test_a_short_general_question_gets_the_whole_card_not_one_sub_answer(servers: Stack, question, topic):
    replies = servers.answer(worker(), question)
    assert {"topic": topic, "sub": "overview"} in tags(replies)


def test_the_topic_alone_gets_the_overview_and_a_button_gets_the_sub_answer(servers: Stack):
    sender = worker()
    overview = servers.answer(sender, "工伤保险有哪些规定")
    assert {"topic": "work_injury", "sub": "overview"} in tags(overview)
    buttons = [b for m in overview for b in m.get("buttons") or []]
    expected = [(s.title, sub_payload("work_injury", s.id)) for s in all_subs()["work_injury"]][:MAX_SUB_BUTTONS]
    assert [(b["title"], b["payload"]) for b in buttons][:len(expected)] == expected
    commute = next(s for s in all_subs()["work_injury"] if s.id == "commute")
    pressed = servers.answer(sender, sub_payload("work_injury", "commute"))
    assert {"topic": "work_injury", "sub": "commute"} in tags(pressed)
    assert commute.title in text(pressed)
    # the next question on the topic that names no sub-question is not answered with the old one
    again = servers.answer(sender, "工伤的规定能再说一遍吗")
    assert {"topic": "work_injury", "sub": "overview"} in tags(again)


def test_an_ask_back_button_answers_the_sub_question_the_message_asked(servers: Stack):
    """Unsure of the topic (work injury or sick leave), the bot asks back; the 工伤 button carries the
    sub-question the story asked (a fall on the way to work), so pressing it answers that, not the
    topic's overview."""
    sender = worker()
    asked = servers.answer(sender, "下班回家路上摔了一跤，脚崴了请了两天假，主管说要扣全勤还算旷工")
    [ask_back] = [m for m in asked if (m.get("custom") or {}).get("clarify")]
    assert "work_injury" in ask_back["custom"]["clarify"]
    payloads = [b["payload"] for m in asked for b in m.get("buttons") or []]
    assert sub_payload("work_injury", "commute") in payloads
    pressed = servers.answer(sender, sub_payload("work_injury", "commute"))
    assert {"topic": "work_injury", "sub": "commute"} in tags(pressed)
    assert "非本人主要责任" in text(pressed)
