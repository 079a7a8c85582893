"""A worker asks the bot to delete their data: real Rasa server, action server and database."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import AuditEntry, Complaint
from bot.storage.privacy import erased_text
from tests.actions.test_complaint_flow import TICKET, fill_until_summary, joined
from tests.conftest import Stack, rest_id


def complaint(stack: Stack, ticket: str) -> Complaint:
    db = Database(stack.database_url)
    try:
        with db.transaction() as session:
            return session.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()
    finally:
        db.dispose()


def test_a_confirmed_request_erases_the_conversation_and_the_personal_fields(stack: Stack):
    sender = uuid.uuid4().hex
    fill_until_summary(stack, sender, phone="13912345678")
    ticket = TICKET.search(joined(stack.say(sender, "确认提交"))).group()
    stack.say(sender, "我在苏州")
    asked = joined(stack.say(sender, "请把我的个人信息和聊天记录都删掉"))
    assert "确定要删除吗" in asked and "无法恢复" in asked
    assert "已删除" in joined(stack.say(sender, "/affirm"))

    assert stack.user_texts(rest_id(sender)) == []  # the whole conversation is gone from the tracker store
    erased = complaint(stack, ticket)
    assert erased.phone is None and erased.description == erased_text() and erased.sender_id != rest_id(sender)
    assert erased.employer == "宏达电子厂"  # the union's record of the case stays
    # The bot no longer knows the worker: no region remembered, no ticket of theirs to look up.
    assert "已登记" not in joined(stack.say(sender, f"查询投诉进度 {ticket}"))
    db = Database(stack.database_url)
    try:
        with db.transaction() as session:
            audit = session.scalars(select(AuditEntry).where(AuditEntry.object_id == erased.sender_id)).one()
            assert audit.action == "privacy.erase" and audit.detail["complaints"] == 1
    finally:
        db.dispose()


def test_saying_no_keeps_everything(stack: Stack):
    sender = uuid.uuid4().hex
    stack.say(sender, "加班费怎么算")
    assert "确定要删除吗" in joined(stack.say(sender, "删除我的数据"))
    assert "没有删除" in joined(stack.say(sender, "/deny"))
    assert stack.user_texts(rest_id(sender))[:2] == ["加班费怎么算", "删除我的数据"]


def test_asked_in_the_middle_of_the_complaint_form_it_is_not_taken_as_an_answer(stack: Stack):
    sender = uuid.uuid4().hex
    assert "单位叫什么名字" in joined(stack.say(sender, "我要投诉"))
    assert "哪个城市" in joined(stack.say(sender, "宏达电子厂"))
    assert "哪方面的问题" in joined(stack.say(sender, "北京朝阳区"))
    asked = joined(stack.say(sender, "删除我的数据"))
    assert "确定要删除吗" in asked and "哪方面的问题" not in asked
    assert "已删除" in joined(stack.say(sender, "/affirm"))
    assert stack.user_texts(rest_id(sender)) == []


def test_asked_in_the_middle_of_a_calculation_the_form_is_left_and_no_keeps_everything(stack: Stack):
    sender = uuid.uuid4().hex
    assert "加班了多少个小时" in joined(stack.say(sender, "月薪5000，帮我算算加班费"))
    asked = joined(stack.say(sender, "删除我的数据"))
    assert "确定要删除吗" in asked and "没看懂" not in asked
    assert "没有删除" in joined(stack.say(sender, "/deny"))
    assert "加班了多少个小时" not in joined(stack.say(sender, "谢谢"))   # the calculation was left
    assert stack.user_texts(rest_id(sender))[:2] == ["月薪5000，帮我算算加班费", "删除我的数据"]
