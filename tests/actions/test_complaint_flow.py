"""The complaint form end to end: real Rasa server, real action server, real database."""
from __future__ import annotations

import re
import sqlite3
import uuid

from sqlalchemy import select

from bot.storage.accounts import AccountService
from bot.storage.db import Database
from bot.storage.errors import DuplicateName
from bot.storage.models import Complaint, Handoff
from tests.conftest import Stack, rest_id

TICKET = re.compile(r"NJ-\d{8}-[2-9A-HJKMNP-Z]{5}")


def new_worker() -> str:
    return uuid.uuid4().hex


def joined(replies: list[str]) -> str:
    return "\n".join(replies)


def stored(stack: Stack, sender: str) -> list[Complaint]:
    db = Database(stack.database_url)
    try:
        with db.transaction() as session:
            return list(session.scalars(select(Complaint).where(Complaint.sender_id == rest_id(sender))))
    finally:
        db.dispose()


def fill_until_summary(stack: Stack, sender: str, phone: str = "13812345678", region: str | None = "苏州",
                       employer: str = "宏达电子厂") -> str:
    """The worker files a complaint up to the summary; ``region`` None: the bot knows it already."""
    assert "单位叫什么名字" in joined(stack.say(sender, "我要投诉"))
    if region is None:
        assert "哪方面的问题" in joined(stack.say(sender, employer))
    else:
        assert "你在哪个城市工作" in joined(stack.say(sender, employer))
        assert "哪方面的问题" in joined(stack.say(sender, region))
    assert "发生了什么" in joined(stack.say(sender, "/wage_arrears"))
    assert "什么时候开始" in joined(stack.say(sender, "老板拖欠我三个月工资，一共两万四千元"))
    assert "多少名职工" in joined(stack.say(sender, "今年八月"))
    assert "手机号" in joined(stack.say(sender, "3"))
    if phone == "匿名":
        return joined(stack.say(sender, phone))
    assert "打这个电话联系你" in joined(stack.say(sender, phone))
    return joined(stack.say(sender, "同意"))


def test_a_complaint_is_stored_before_the_ticket_is_given_and_only_its_owner_sees_it(stack: Stack):
    sender = new_worker()
    summary = fill_until_summary(stack, sender)
    for shown in ("宏达电子厂", "地区：苏州", "拖欠工资", "三个月工资", "今年八月", "涉及人数：3", "13812345678"):
        assert shown in summary
    filed = joined(stack.say(sender, "确认提交"))
    ticket = TICKET.search(filed).group()
    [complaint] = stored(stack, sender)
    assert (complaint.ticket, complaint.employer, complaint.topic) == (ticket, "宏达电子厂", "wage_arrears")
    assert complaint.region == "苏州"
    assert (complaint.workers_affected, complaint.phone, complaint.consent_to_contact) == (3, "13812345678", True)

    assert "已登记" in joined(stack.say(sender, f"查询投诉进度 {ticket}"))
    assert ticket in joined(stack.say(sender, "我的投诉处理得怎么样了"))
    stranger = joined(stack.say(new_worker(), f"查询投诉进度 {ticket}"))
    assert "没有找到" in stranger and "宏达电子厂" not in stranger


def test_invalid_answers_are_asked_again_and_anonymity_skips_consent(stack: Stack):
    sender = new_worker()
    stack.say(sender, "我要投诉")
    assert "太短" in joined(stack.say(sender, "厂"))
    stack.say(sender, "顺丰速运某分部")
    assert "只写城市或区县" in joined(stack.say(sender, "就在这边"))
    stack.say(sender, "深圳宝安")
    stack.say(sender, "/overtime_pay")
    stack.say(sender, "天天加班到十点没有加班费")
    stack.say(sender, "去年")
    assert "没看懂人数" in joined(stack.say(sender, "好多"))
    stack.say(sender, "三十多个")
    assert "号码好像不对" in joined(stack.say(sender, "123"))
    summary = joined(stack.say(sender, "匿名"))
    assert "不留（匿名）" in summary and "涉及人数：30" in summary
    ticket = TICKET.search(joined(stack.say(sender, "确认提交"))).group()
    [complaint] = stored(stack, sender)
    assert complaint.ticket == ticket and complaint.phone is None and not complaint.consent_to_contact
    assert complaint.priority == 2  # thirty workers: urgent


def test_a_field_can_be_corrected_before_submitting(stack: Stack):
    sender = new_worker()
    fill_until_summary(stack, sender)
    assert "单位叫什么名字" in joined(stack.say(sender, "改单位名称"))
    summary = joined(stack.say(sender, "宏远电子有限公司"))
    assert "宏远电子有限公司" in summary and "宏达电子厂" not in summary
    stack.say(sender, "确认提交")
    assert [c.employer for c in stored(stack, sender)] == ["宏远电子有限公司"]


def test_the_region_the_worker_gave_before_is_not_asked_again(stack: Stack):
    sender = new_worker()
    stack.say(sender, "我在深圳工作")
    summary = fill_until_summary(stack, sender, region=None)
    assert "地区：广东" in summary
    stack.say(sender, "确认提交")
    assert [c.region for c in stored(stack, sender)] == ["广东"]
    named = new_worker()  # the city in the employer's name counts too
    assert "地区：江苏" in fill_until_summary(stack, named, region=None, employer="苏州宏达电子厂")


def test_the_region_can_be_skipped_and_corrected(stack: Stack):
    sender = new_worker()
    summary = fill_until_summary(stack, sender, region="跳过")
    assert "地区：没有说" in summary
    assert "你在哪个城市工作" in joined(stack.say(sender, "改地区"))
    summary = joined(stack.say(sender, "我在北京海淀区上班"))
    assert "地区：北京海淀区" in summary and "工业园" not in summary
    stack.say(sender, "确认提交")
    assert [c.region for c in stored(stack, sender)] == ["北京海淀区"]


def unit(stack: Stack, name: str, parent: str | None = None, regions: tuple[str, ...] = ()) -> int:
    """The org unit ``name`` of ``stack``'s database (created once: the stack outlives a test)."""
    db = Database(stack.database_url)
    try:
        accounts = AccountService(db)
        try:
            accounts.add_unit(name, parent, regions=list(regions))
        except DuplicateName:
            pass
        return next(u.id for u in accounts.units() if u.name == name)
    finally:
        db.dispose()


def test_a_complaint_goes_to_the_union_of_its_district(stack: Stack):
    unit(stack, "市总工会")
    chaoyang = unit(stack, "朝阳区工会", parent="市总工会", regions=("朝阳",))
    haidian = unit(stack, "海淀区工会", parent="市总工会", regions=("海淀",))
    by_name, by_answer = new_worker(), new_worker()
    fill_until_summary(stack, by_name, employer="朝阳宏达电子厂", region="不想说")
    stack.say(by_name, "确认提交")
    fill_until_summary(stack, by_answer, employer="宏达电子厂", region="海淀区")
    stack.say(by_answer, "确认提交")
    [named] = stored(stack, by_name)
    [answered] = stored(stack, by_answer)
    assert (named.region, named.org_unit_id) == (None, chaoyang)
    assert (answered.region, answered.org_unit_id) == ("海淀区", haidian)


def test_the_form_can_be_stopped_and_nothing_is_stored(stack: Stack):
    sender = new_worker()
    stack.say(sender, "我要投诉")
    stack.say(sender, "宏达电子厂")
    assert "已停止登记" in joined(stack.say(sender, "算了不填了"))
    assert stored(stack, sender) == []
    # A new complaint starts from the beginning: nothing of the stopped one is kept.
    assert "单位叫什么名字" in joined(stack.say(sender, "我要投诉"))


def test_the_topic_is_taken_from_the_conversation(stack: Stack):
    sender = new_worker()
    stack.say(sender, "公司不给我交社保怎么办")
    stack.say(sender, "我要投诉")
    stack.say(sender, "宏达电子厂")
    assert "发生了什么" in joined(stack.say(sender, "深圳"))  # no need to ask the topic


def test_asking_for_a_person_inside_the_form_hands_off_with_what_was_collected(stack: Stack):
    sender = new_worker()
    stack.say(sender, "我要投诉")
    stack.say(sender, "宏达电子厂")
    assert "转接工会工作人员" in joined(stack.say(sender, "我要找真人"))
    db = Database(stack.database_url)
    with db.transaction() as session:
        handoff = session.scalars(select(Handoff).where(Handoff.sender_id == rest_id(sender))).one()
    db.dispose()
    assert handoff.reason == "requested" and handoff.slots["complaint_employer"] == "宏达电子厂"


def test_a_locked_database_is_never_reported_as_saved(servers: Stack):
    sender = new_worker()
    fill_until_summary(servers, sender, phone="匿名")
    path = servers.database_url.removeprefix("sqlite:///")
    lock = sqlite3.connect(path, isolation_level=None, timeout=1)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        reply = joined(servers.say(sender, "确认提交"))
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert "没有保存成功" in reply and not TICKET.search(reply)
    assert stored(servers, sender) == []
    # The answers are kept: asking again goes straight to the summary.
    assert "请核对" in joined(servers.say(sender, "提交投诉"))
    ticket = TICKET.search(joined(servers.say(sender, "确认提交"))).group()
    assert [c.ticket for c in stored(servers, sender)] == [ticket]


def test_a_killed_action_server_loses_no_confirmed_complaint(servers: Stack):
    sender = new_worker()
    fill_until_summary(servers, sender)
    servers.kill("actions")
    try:
        replies = servers.say(sender, "确认提交")
        assert ["没有完成" in r for r in replies] == [True]  # once, plainly, and no ticket
        assert not TICKET.search(joined(replies))
        assert stored(servers, sender) == []
    finally:
        servers.start("actions")
    # The worker tries again as told; the answers were kept (a summary may be shown first).
    reply = joined(servers.say(sender, "提交投诉"))
    if "请核对" in reply:
        reply = joined(servers.say(sender, "确认提交"))
    ticket = TICKET.search(reply).group()
    assert [c.ticket for c in stored(servers, sender)] == [ticket]
