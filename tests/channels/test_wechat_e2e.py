"""WeChat and WeCom through a real Rasa server, action server and database, with WeChat's
side played by wechatpy (signed / encrypted requests) and a fake WeChat API."""
from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Iterator

import pytest
import requests

from bot.storage.db import Database
from bot.storage.models import ChannelUser
from bot.testing.wechat import FakeWeChatApi, WeChatServerSim
from tests.conftest import Stack, _stack, staff_desk, wechat_id

TICKET = re.compile(r"NJ-\d{8}-[2-9A-HJKMNP-Z]{5}")


class Worker:
    """One WeChat user; ``say`` returns what the bot answered, passively or through the API."""

    def __init__(self, sim: WeChatServerSim, api: FakeWeChatApi) -> None:
        self.sim, self.api = sim, api
        self.openid = f"o{uuid.uuid4().hex[:27]}"

    def _exchange(self, xml: str) -> str:
        before = len(self.api.messages_to(self.openid))
        response = self.sim.post(xml)
        assert response.status_code == 200
        passive = self.sim.reply_text(response.text)
        if passive is not None:
            return passive
        deadline = time.monotonic() + 30
        while len(self.api.messages_to(self.openid)) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)  # the pieces of a long answer follow each other
        return "\n".join(self.api.messages_to(self.openid)[before:])

    def say(self, text: str) -> str:
        return self._exchange(self.sim.text(self.openid, text))

    def event(self, event: str, key: str | None = None) -> str:
        return self._exchange(self.sim.event(self.openid, event, key=key))

    def option(self, shown: str, title: str) -> str:
        """The digit of the numbered option whose title contains ``title``."""
        return re.search(rf"^(\d+)\. [^\n]*{title}", shown, re.M).group(1)


def _sender(worker: Worker, wecom: bool = False) -> str:
    return wechat_id("wecom" if wecom else "wechat", worker.openid)


def test_a_wechat_worker_can_do_everything_a_web_chat_worker_can(stack: Stack, desk, fake_wechat_api) -> None:
    staff_desk, staff = desk
    worker = Worker(stack.wechat(), fake_wechat_api)
    welcome = worker.event("subscribe")
    assert "回复数字选择" in welcome
    answer = worker.say(worker.option(welcome, "拖欠工资"))
    assert "不得克扣或无故拖欠" in answer and "回复“依据”" in answer and "《" not in answer
    assert "《劳动法》第50条" in worker.say("依据")  # the statutes, when asked for

    assert "单位叫什么名字" in worker.say("我要投诉")
    where = worker.say("宏达电子厂")
    assert "哪个城市" in where
    # The topic is taken from the question answered just before (wage arrears).
    assert "发生了什么" in worker.say(worker.option(where, "跳过"))
    assert "什么时候开始" in worker.say("老板拖欠我三个月工资，一共两万四千元")
    assert "多少名职工" in worker.say("今年八月")
    assert "手机号" in worker.say("3")  # no options shown: a digit is an answer, not a choice
    consent = worker.say("13812345678")
    summary = worker.say(worker.option(consent, "同意"))
    assert "宏达电子厂" in summary and "涉及人数：3" in summary
    ticket = TICKET.search(worker.say(worker.option(summary, "确认提交"))).group()
    assert "已登记" in worker.say(f"查询投诉进度 {ticket}")

    assert "工作人员" in worker.say("转人工")
    handoff = next(h for h in staff_desk.queue() if h.sender_id == _sender(worker))
    assert handoff.channel == "wechat"
    # Waiting: the worker hears the message arrived; claimed: who took it; replies carry the name.
    assert "排在第" in worker.say("有人吗")
    staff_desk.claim(handoff.id, staff)
    assert fake_wechat_api.wait_for(worker.openid, "已接入")[-1] == "工会的李干事已接入，接下来会在这个对话里直接回复你。"
    fake_wechat_api.expire_tokens()  # the shared token dies between two replies: refreshed once
    delivery = staff_desk.reply(handoff.id, staff, "你好，我是工会的李干事，欠薪的事我来跟进")
    assert delivery.delivered, delivery.error
    assert fake_wechat_api.messages_to(worker.openid)[-1] == "【工会 李干事】你好，我是工会的李干事，欠薪的事我来跟进"
    staff_desk.resolve(handoff.id, staff)
    rating = fake_wechat_api.wait_for(worker.openid, "打个分")[-1]
    assert "谢谢你的评价" in worker.say(worker.option(rating, "5分"))
    assert staff_desk.handoffs.get(handoff.id).rating == 5


def test_a_staff_reply_after_48_hours_is_kept_and_reported(servers: Stack, fake_wechat_api) -> None:
    worker = Worker(servers.wechat(), fake_wechat_api)
    worker.say("转人工")
    sender = _sender(worker)
    with staff_desk(servers, "赵干事") as (desk, staff):
        handoff = next(h for h in desk.queue() if h.sender_id == sender)
        with Database(servers.database_url).transaction() as session:
            session.query(ChannelUser).filter_by(sender_id=sender).one().last_inbound_at -= timedelta(hours=49)
        desk.claim(handoff.id, staff)
        delivery = desk.reply(handoff.id, staff, "抱歉回复晚了")
        assert not delivery.delivered and "48 hours" in delivery.error
        kept = desk.handoffs.get(handoff.id).messages[-1]
    assert (kept.text, kept.delivered) == ("抱歉回复晚了", False)
    assert "抱歉回复晚了" not in fake_wechat_api.messages_to(worker.openid)


def test_wecom_safe_mode_round_trip(servers: Stack, fake_wechat_api) -> None:
    worker = Worker(servers.wechat(wecom=True), fake_wechat_api)
    response = worker.sim.post(worker.sim.text(worker.openid, "年休假有几天"))
    assert "<Encrypt>" in response.text and "年休假" not in response.text  # encrypted on the wire
    assert "年休假" in worker.sim.reply_text(response.text)


@pytest.fixture(scope="module")
def second_rasa(servers: Stack, fake_wechat_api: FakeWeChatApi) -> Iterator[Stack]:
    """Another Rasa server on the same databases, answering only through the API (0 s window)."""
    yield from _stack(servers.var_dir, ("rasa",), wechat_api=fake_wechat_api.url,
                      callback_url=servers.env["CALLBACK_URL"], ACTIONS_PORT=servers.env["ACTIONS_PORT"],
                      WECHAT_REPLY_SECONDS="0")


def test_a_slow_answer_arrives_through_the_customer_service_api(second_rasa: Stack, fake_wechat_api) -> None:
    worker = Worker(second_rasa.wechat(), fake_wechat_api)
    response = worker.sim.post(worker.sim.text(worker.openid, "加班费怎么算"))
    assert response.text == "success"
    assert any("加班" in text for text in fake_wechat_api.wait_for(worker.openid, "加班"))


def test_a_retry_reaching_another_process_is_processed_once(servers: Stack, second_rasa: Stack,
                                                            fake_wechat_api) -> None:
    first, second = servers.wechat(wecom=True), second_rasa.wechat(wecom=True)
    worker = Worker(first, fake_wechat_api)
    xml = first.text(worker.openid, "试用期最长多久", msg_id=first.new_msg_id())
    with ThreadPoolExecutor(4) as pool:  # the message and three retries, spread over both processes
        responses = list(pool.map(lambda sim: sim.post(xml), [first, second, first, second]))
    time.sleep(2)
    answers = [a for a in (sim.reply_text(r.text) for sim, r in zip([first, second] * 2, responses)) if a]
    answers += fake_wechat_api.messages_to(worker.openid)
    assert answers and len(set(answers)) == 1  # one answer (a retry may be given the same text again)
    events = requests.get(f"{servers.rasa_url}/conversations/{_sender(worker, wecom=True)}/tracker",
                          params={"token": servers.token}, timeout=10).json()["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["试用期最长多久"]
