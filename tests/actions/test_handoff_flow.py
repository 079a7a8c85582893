"""Handoff end to end: worker ↔ Rasa (callback channel) ↔ action server ↔ staff desk ↔ Rasa API."""
from __future__ import annotations

import time
import uuid

import pytest

from bot.storage.models import Priority
from tests.conftest import CallbackRecorder, Stack, rest_id, staff_desk


def test_staff_answer_in_the_same_chat_while_the_bot_stays_silent(stack: Stack, desk,
                                                                  callback_recorder: CallbackRecorder):
    staff_desk, staff = desk
    worker = uuid.uuid4().hex
    stack.say_callback(worker, "公司拖欠工资怎么办")
    callback_recorder.wait_for(worker, "下一步")
    stack.say_callback(worker, "我想跟工作人员直接聊")
    callback_recorder.wait_for(worker, "转接工会工作人员")

    [handoff] = [h for h in staff_desk.queue() if h.sender_id == rest_id(worker, "callback")]
    assert (handoff.reason, handoff.channel, handoff.status) == ("requested", "callback", "open")
    assert "公司拖欠工资怎么办" in [m.text for m in handoff.messages]
    assert handoff.slots["topic"] == "拖欠工资、克扣工资"   # staff see what it is about

    # While staff hold the conversation the bot predicts nothing: the message is logged, and while
    # nobody has claimed it yet the worker hears that it arrived - once, not for every message.
    before = len(callback_recorder.texts(worker))
    stack.say_callback(worker, "老板说月底再发，已经拖了三个月了")
    callback_recorder.wait_for(worker, "工会工作人员会在这个对话里回复你")
    stack.say_callback(worker, "在吗")
    time.sleep(3)
    [told] = callback_recorder.texts(worker)[before:]
    assert "排在第" in told and "12351" in told and "120" in told
    assert stack.events(rest_id(worker, "callback"))[-1]["event"] == "user"
    shown = staff_desk.show(handoff.id)
    assert [m.text for m in shown.messages[-2:]] == ["老板说月底再发，已经拖了三个月了", "在吗"]

    staff_desk.claim(handoff.id, staff)
    callback_recorder.wait_for(worker, "工会的李干事已接入")
    delivery = staff_desk.reply(handoff.id, staff, "你好，我是工会的李干事，请把工资条拍照发我")
    assert delivery.delivered
    callback_recorder.wait_for(worker, "我是工会的李干事")

    staff_desk.resolve(handoff.id, staff)
    callback_recorder.wait_for(worker, "打个分")
    stack.say_callback(worker, "5分")
    callback_recorder.wait_for(worker, "谢谢你的评价")
    assert staff_desk.handoffs.get(handoff.id).rating == 5

    # Back to normal: the bot answers the next question itself.
    stack.say_callback(worker, "试用期最长可以约定多久")
    callback_recorder.wait_for(worker, "【试用期")


@pytest.mark.parametrize("message, hotlines", [
    ("我真的不想活了", ("110", "120", "12351")),
    ("我们工地上百个工人被欠薪半年了", ("12351",)),
])
def test_crisis_words_answer_at_once_and_go_first_in_the_queue(stack: Stack, desk, message, hotlines):
    staff_desk, _ = desk
    worker = uuid.uuid4().hex
    stack.say(worker, "我要投诉")  # also inside a form
    reply = "\n".join(stack.say(worker, message))
    assert all(number in reply for number in hotlines)
    handoff = next(h for h in staff_desk.queue() if h.sender_id == rest_id(worker))
    assert handoff.reason == "crisis" and handoff.priority < Priority.NORMAL
    assert staff_desk.queue()[0].priority <= handoff.priority


def test_a_reply_that_cannot_be_delivered_is_kept_and_reported(stack: Stack, desk):
    staff_desk, staff = desk
    worker = uuid.uuid4().hex
    stack.say(worker, "转人工")  # plain REST cannot carry later messages
    handoff = next(h for h in staff_desk.queue() if h.sender_id == rest_id(worker))
    staff_desk.claim(handoff.id, staff)
    delivery = staff_desk.reply(handoff.id, staff, "请问你在哪个区？")
    assert not delivery.delivered and "cannot receive" in delivery.error
    kept = staff_desk.handoffs.get(handoff.id).messages[-1]
    assert (kept.text, kept.delivered) == ("请问你在哪个区？", False)


def test_a_request_for_a_person_that_names_its_topic_carries_it_to_staff(stack: Stack, desk,
                                                                          callback_recorder: CallbackRecorder):
    staff_desk, _ = desk
    worker = uuid.uuid4().hex
    stack.say_callback(worker, "我要转人工，想问问工伤的事")
    callback_recorder.wait_for(worker, "转接工会工作人员")
    [handoff] = [h for h in staff_desk.queue() if h.sender_id == rest_id(worker, "callback")]
    assert handoff.slots["topic"] == "工伤认定与待遇"


def test_after_a_poor_rating_the_worker_may_skip_the_question_or_ask_for_a_person_instead(
        servers: Stack, callback_recorder: CallbackRecorder):
    with staff_desk(servers) as (desk, staff):
        def helped_then_rated(worker: str, rating: str) -> int:
            servers.say_callback(worker, "转人工")
            callback_recorder.wait_for(worker, "转接工会工作人员")
            handoff = next(h for h in desk.queue() if h.sender_id == rest_id(worker, "callback"))
            desk.claim(handoff.id, staff)
            desk.resolve(handoff.id, staff)
            callback_recorder.wait_for(worker, "打个分")
            servers.say_callback(worker, rating)
            callback_recorder.wait_for(worker, "哪里没做好")  # asked after a rating of 1–2 only
            return handoff.id

        skipper = uuid.uuid4().hex
        rated = helped_then_rated(skipper, "2分")
        servers.say_callback(skipper, "跳过")
        callback_recorder.wait_for(skipper, "谢谢你的评价")
        assert (desk.handoffs.get(rated).rating, desk.handoffs.get(rated).rating_comment) == (2, None)

        asker = uuid.uuid4().hex
        rated = helped_then_rated(asker, "1")  # a bare "1" right after the hand-back is a rating
        before = len(callback_recorder.texts(asker))
        servers.say_callback(asker, "我要找人工")  # not a comment: a person again
        deadline = time.monotonic() + 20
        while not any("转接工会工作人员" in t for t in callback_recorder.texts(asker)[before:]):
            assert time.monotonic() < deadline, callback_recorder.texts(asker)
            time.sleep(0.2)
        assert (desk.handoffs.get(rated).rating, desk.handoffs.get(rated).rating_comment) == (1, None)
        assert any(h.sender_id == rest_id(asker, "callback") for h in desk.queue())
