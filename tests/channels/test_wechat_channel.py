"""The WeChat and WeCom webhooks, driven by wechatpy-built requests, with a recording bot.

The channel runs in-process in a Sanic app (sanic-testing), on a real SQLite database,
sending late answers to a fake WeChat API. tests/channels/test_wechat_e2e.py runs the same
channel inside a real Rasa server.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.common import replies
from bot.channels.wechat import WeChatInput
from bot.channels.wechat_api import DeliveryWindowClosed
from bot.channels.wecom import WeComInput
from bot.storage.channels import ChannelService
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.accounts import AccountService
from bot.storage.models import ChannelUser, Priority
from bot.storage.services import HandoffRequest, HandoffService
from bot.testing.wechat import FakeWeChatApi, WeChatServerSim

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID, APP_SECRET, CORP_ID, CORP_SECRET = "wx0123456789abcdef", "app-secret-1", "ww0123456789", "corp-secret-1"
BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><xml><ToUserName>x</ToUserName><FromUserName>u</FromUserName>
<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""


class Bot:
    """Stands in for Rasa: records each message and answers from a script."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []
        self.answers: dict[str, list[dict]] = {}
        self.delay = 0.0
        self.fail = False

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("model exploded")
        await asyncio.sleep(self.delay)
        for answer in self.answers.get(message.text, [{"text": f"答：{message.text}"}]):
            await message.output_channel.send_response(message.sender_id, dict(answer))

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]


class Harness:
    def __init__(self, channel, sim: WeChatServerSim, bot: Bot, store: ChannelService) -> None:
        self.channel, self.sim, self.bot, self.store = channel, sim, bot, store
        self.app = Sanic(f"t{uuid.uuid4().hex}")
        self.app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")
        self.url = f"/webhooks/{channel.name()}/webhook"

    async def post_raw(self, params: dict, body: bytes):
        _request, response = await self.app.asgi_client.post(self.url, params=params, content=body)
        return response

    async def post(self, xml: str, **kwargs):
        return await self.post_raw(*self.sim.signed(xml, **kwargs))

    async def say(self, user: str, text: str) -> str | None:
        response = await self.post(self.sim.text(user, text))
        assert response.status == 200
        return self.sim.reply_text(response.text)


@pytest.fixture(scope="module")
def fake_api():
    api = FakeWeChatApi(APP_ID, APP_SECRET, CORP_ID, CORP_SECRET).start()
    yield api
    api.stop()


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'niangjia.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def _harness(kind: str, api_url: str, reply_seconds: float = 2.0) -> Harness:
    if kind == "wecom":
        channel = WeComInput.from_credentials({
            "token": "wecom-token", "encoding_aes_key": AES_KEY, "corp_id": CORP_ID, "agent_id": "1000002",
            "secret": CORP_SECRET, "api_base": api_url, "reply_seconds": reply_seconds})
        sim = WeChatServerSim("", "wecom-token", CORP_ID, AES_KEY, wecom=True)
    else:
        channel = WeChatInput.from_credentials({
            "token": "wechat-token", "app_id": APP_ID, "app_secret": APP_SECRET, "api_base": api_url,
            "encoding_aes_key": AES_KEY if kind == "wechat_safe" else "", "reply_seconds": reply_seconds})
        sim = WeChatServerSim("", "wechat-token", APP_ID, AES_KEY if kind == "wechat_safe" else None)
    return Harness(channel, sim, Bot(), channel.store)


@pytest.fixture(params=["wechat", "wechat_safe", "wecom"])
def harness(request, store_url: str, fake_api: FakeWeChatApi) -> Harness:
    return _harness(request.param, fake_api.url)


def _user() -> str:
    return f"o{uuid.uuid4().hex[:20]}"


# -- handshake and request checks -------------------------------------------------------------
async def test_handshake_echoes_only_for_a_valid_signature(harness: Harness) -> None:
    params = harness.sim.handshake_params("echo-12345")
    _r, ok = await harness.app.asgi_client.get(harness.url, params=params)
    assert ok.status == 200 and ok.text == "echo-12345"
    forged = dict(params, **{"msg_signature" if harness.sim.wecom else "signature": "0" * 40})
    _r, refused = await harness.app.asgi_client.get(harness.url, params=forged)
    assert refused.status == 403 and "echo-12345" not in refused.text


async def test_text_round_trip_answers_passively(harness: Harness) -> None:
    user = _user()
    assert await harness.say(user, "老板拖欠工资怎么办") == "答：老板拖欠工资怎么办"
    message = harness.bot.received[0]
    assert message.input_channel == harness.channel.name()
    assert user not in message.sender_id  # Rasa and its logs see a hash, not the WeChat id


async def test_forged_and_stale_requests_are_refused_unprocessed(harness: Harness) -> None:
    params, body = harness.sim.signed(harness.sim.text(_user(), "你好"))
    key = "msg_signature" if harness.sim.crypto is not None else "signature"
    forged = await harness.post_raw(dict(params, **{key: "f" * 40}), body)
    stale = await harness.post(harness.sim.text(_user(), "你好"), timestamp=int(time.time()) - 3600)
    unsigned = await harness.post_raw({"timestamp": params["timestamp"]}, body)
    assert (forged.status, stale.status, unsigned.status) == (403, 403, 403)
    assert harness.bot.received == []


async def test_retried_message_is_processed_once_and_gets_the_same_reply(harness: Harness) -> None:
    xml = harness.sim.text(_user(), "加班费怎么算", msg_id=harness.sim.new_msg_id())
    first = await harness.post(xml)
    # WeChat's retry: same MsgId, newly signed; also two copies racing each other.
    retries = await asyncio.gather(harness.post(xml), harness.post(xml))
    assert harness.bot.texts == ["加班费怎么算"]
    assert {harness.sim.reply_text(r.text) for r in [first, *retries]} == {"答：加班费怎么算"}


async def test_events_are_deduplicated_by_sender_and_create_time(harness: Harness) -> None:
    xml = harness.sim.event(_user(), "subscribe", create_time=int(time.time()))
    await harness.post(xml)
    await harness.post(xml)
    assert harness.bot.texts == ["/greet"]


# -- message types ------------------------------------------------------------------------------
async def test_voice_with_recognition_is_read_as_text(harness: Harness) -> None:
    sim, user = harness.sim, _user()
    recognised = await harness.post(sim.xml(user, "voice", MediaId="m1", Format="amr",
                                            Recognition="工伤怎么认定", MsgId=sim.new_msg_id()))
    unrecognised = await harness.post(sim.xml(user, "voice", MediaId="m2", Format="amr", MsgId=sim.new_msg_id()))
    assert sim.reply_text(recognised.text) == "答：工伤怎么认定"
    assert sim.reply_text(unrecognised.text) == replies()["wechat_voice_unrecognised"]
    assert harness.bot.texts == ["工伤怎么认定"]


@pytest.mark.parametrize("msg_type, fields", [
    ("image", {"PicUrl": "http://x/a.jpg", "MediaId": "m"}),
    ("video", {"MediaId": "m", "ThumbMediaId": "t"}),
    ("location", {"Location_X": "23.1", "Location_Y": "113.2", "Scale": "15", "Label": "广州"}),
    ("link", {"Title": "t", "Description": "d", "Url": "http://x"}),
    ("file", {"FileName": "合同.pdf"}),
])
async def test_media_gets_a_plain_answer_and_an_offer_of_a_person(harness: Harness, msg_type, fields) -> None:
    response = await harness.post(harness.sim.xml(_user(), msg_type, MsgId=harness.sim.new_msg_id(), **fields))
    assert harness.sim.reply_text(response.text) == replies()["wechat_unsupported"]
    assert "转人工" in replies()["wechat_unsupported"]
    assert harness.bot.received == []


async def test_follow_unfollow_and_menu_clicks(harness: Harness) -> None:
    sim, user = harness.sim, _user()
    harness.bot.answers["/greet"] = [{"text": "你好！", "buttons": [{"title": "拖欠工资", "payload": "/wage_arrears"},
                                                                   {"title": "工伤", "payload": "/work_injury"}]}]
    welcome = sim.reply_text((await harness.post(sim.event(user, "subscribe", create_time=1_000))).text)
    assert welcome == "你好！\n回复数字选择：\n1. 拖欠工资\n2. 工伤"
    click = await harness.post(sim.event(user, "CLICK", key="CHECK_COMPLAINT", create_time=1_001))
    unknown = await harness.post(sim.event(user, "CLICK", key="NO_SUCH_KEY", create_time=1_002))
    view = await harness.post(sim.event(user, "VIEW", key="https://example.org", create_time=1_003))
    gone = await harness.post(sim.event(user, "unsubscribe", create_time=1_004))
    assert sim.reply_text(click.text) == "答：/check_complaint"
    assert sim.reply_text(unknown.text) == replies()["wechat_unknown_menu"]
    assert (view.text, gone.text) == ("success", "success")
    assert harness.bot.texts == ["/greet", "/check_complaint"]
    with harness.store.db.transaction() as session:
        row = session.query(ChannelUser).filter_by(external_id=user).one()
        assert row.subscribed is False


async def test_numbered_options_map_digits_back_to_buttons(harness: Harness) -> None:
    user = _user()
    harness.bot.answers["投诉"] = [{"text": "什么问题？", "buttons": [{"title": "欠薪", "payload": "/a"},
                                                                   {"title": "社保", "payload": "/b"}]}]
    await harness.say(user, "投诉")
    await harness.say(user, "２")  # full-width digit from a Chinese keyboard
    await harness.say(user, "7")  # no such option: read as text
    await harness.say(user, "1")  # the last answer had no options: read as text
    assert harness.bot.texts == ["投诉", "/b", "7", "1"]


# -- timing: slow and long answers through the customer-service API -----------------------------
async def sent_through_api(fake_api: FakeWeChatApi, user: str) -> list[str]:
    """What reached ``user`` through the API, once something has (within 5 s) and nothing more has
    come for half a second: a long answer goes out piece by piece."""
    for _ in range(50):
        if fake_api.messages_to(user):
            break
        await asyncio.sleep(0.1)
    seen, quiet_since = len(fake_api.messages_to(user)), time.monotonic()
    while time.monotonic() - quiet_since < 0.5:
        await asyncio.sleep(0.1)
        if len(fake_api.messages_to(user)) != seen:
            seen, quiet_since = len(fake_api.messages_to(user)), time.monotonic()
    return fake_api.messages_to(user)


async def test_slow_answer_is_acknowledged_then_delivered_through_the_api(
        store_url: str, fake_api: FakeWeChatApi) -> None:
    harness = _harness("wechat", fake_api.url, reply_seconds=0.3)
    harness.bot.delay = 1.0
    user = _user()
    xml = harness.sim.text(user, "慢问题", msg_id=harness.sim.new_msg_id())
    started = time.monotonic()
    response = await harness.post(xml)
    assert response.text == "success" and time.monotonic() - started < 1.0
    retry = await harness.post(xml)  # WeChat retries while we are still working: not run again
    assert retry.text == "success"
    assert await sent_through_api(fake_api, user) == ["答：慢问题"]
    assert harness.bot.texts == ["慢问题"]


async def test_long_answer_is_split_within_wechat_limits(store_url: str, fake_api: FakeWeChatApi) -> None:
    harness = _harness("wecom", fake_api.url)
    paragraph = "依照劳动合同法第三十条，用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额支付劳动报酬。"
    harness.bot.answers["长"] = [{"text": "\n".join([paragraph] * 60)}]
    user = _user()
    assert await harness.say(user, "长") is None  # acknowledged; the pieces go through the API
    pieces = await sent_through_api(fake_api, user)
    assert len(pieces) > 1 and all(len(p.encode("utf-8")) <= 2048 for p in pieces)
    assert "\n".join(pieces) == "\n".join([paragraph] * 60)


async def test_api_output_respects_the_48_hour_window(store_url: str, fake_api: FakeWeChatApi) -> None:
    harness = _harness("wechat", fake_api.url)
    user = _user()
    await harness.say(user, "你好")
    sender = harness.bot.received[0].sender_id
    output = harness.channel.get_output_channel()
    await output.send_text_message(sender, "工会工作人员的回复")
    assert fake_api.messages_to(user) == ["工会工作人员的回复"]
    with harness.store.db.transaction() as session:
        session.query(ChannelUser).filter_by(sender_id=sender).one().last_inbound_at -= timedelta(hours=49)
    with pytest.raises(DeliveryWindowClosed):
        await output.send_text_message(sender, "两天后的回复")
    fake_api.closed_windows.add(user)  # WeChat itself says so (errcode 45015)
    await harness.say(user, "还在吗")
    with pytest.raises(DeliveryWindowClosed):
        await output.send_text_message(sender, "又一条回复")
    assert fake_api.messages_to(user) == ["工会工作人员的回复"]


# -- bad input ------------------------------------------------------------------------------------
async def test_xml_bomb_and_malformed_xml_are_refused_without_harm(harness: Harness) -> None:
    if harness.sim.crypto is None:
        bomb = await harness.post_raw(*harness.sim.signed(BOMB.decode()))
    else:  # inside the encrypted envelope: decrypted, then refused all the same
        bomb = await harness.post(BOMB.decode())
    broken = await harness.post_raw(harness.sim.signed("<xml>")[0], b"<xml><MsgType>text</Msg")
    assert (bomb.status, broken.status) == (400, 400)
    assert "lol" not in bomb.text
    assert await harness.say(_user(), "还能用吗") == "答：还能用吗"


async def test_huge_and_empty_messages_get_a_plain_answer(harness: Harness) -> None:
    user = _user()
    huge = await harness.say(user, "欠" * 10_240)  # 10 K characters, 30 KB
    empty = await harness.say(user, "   ")
    emoji = await harness.say(user, "😀😀")
    assert (huge, empty) == (replies()["message_too_long"], replies()["empty_message"])
    assert emoji == "答：😀😀" and harness.bot.texts == ["😀😀"]


async def test_failures_inside_get_a_clear_reply(harness: Harness) -> None:
    harness.bot.fail = True
    assert await harness.say(_user(), "你好") == replies()["wechat_error"]


async def test_database_down_gets_a_clear_reply(tmp_path: Path, monkeypatch, fake_api) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
    harness = _harness("wechat", fake_api.url)
    assert await harness.say(_user(), "你好") == replies()["wechat_storage_down"]
    assert harness.bot.received == []


def test_unconfigured_channel_answers_404() -> None:
    channel = WeChatInput.from_credentials({"token": "", "app_id": ""})
    app = Sanic(f"t{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(Bot()), url_prefix="/webhooks/wechat")
    _r, response = app.test_client.post("/webhooks/wechat/webhook", content=b"<xml/>")
    assert response.status == 404
    assert channel.get_output_channel() is None


def test_two_stores_share_the_retry_guard(store_url: str) -> None:
    """Two processes = two engines on one database: only one wins the claim."""
    first, second = ChannelService(Database(store_url)), ChannelService(Database(store_url))
    claims = [first.claim_message("wechat", "k" * 64), second.claim_message("wechat", "k" * 64)]
    assert [c.first for c in claims] == [True, False]


# -- plain mode: a signature is good for one message (issue: nobody acts as another worker) ----------
@pytest.mark.parametrize("harness", ["wechat"], indirect=True)
async def test_a_captured_plain_mode_signature_cannot_carry_another_message(harness: Harness) -> None:
    worker, attacker_victim = _user(), _user()
    params, body = harness.sim.signed(harness.sim.text(worker, "我要投诉"))
    assert (await harness.post_raw(params, body)).status == 200
    # The same signed timestamp and nonce, with another worker's openid and other words.
    forged = harness.sim.text(attacker_victim, "删除我的数据")
    response = await harness.post_raw(dict(params, openid=attacker_victim), forged.encode("utf-8"))
    assert response.status == 403
    assert [m.text for m in harness.bot.received] == ["我要投诉"]  # nothing processed for the victim


@pytest.mark.parametrize("harness", ["wechat"], indirect=True)
async def test_wechats_own_retry_of_the_same_message_is_still_answered_once(harness: Harness) -> None:
    params, body = harness.sim.signed(harness.sim.text(_user(), "加班费怎么算"))
    first, retry = await harness.post_raw(params, body), await harness.post_raw(params, body)
    assert first.status == retry.status == 200
    assert harness.sim.reply_text(retry.text) == harness.sim.reply_text(first.text)
    assert len(harness.bot.received) == 1


@pytest.mark.parametrize("harness", ["wechat"], indirect=True)
async def test_a_body_whose_sender_is_not_the_signed_openid_is_refused(harness: Harness) -> None:
    worker, victim = _user(), _user()
    params, body = harness.sim.signed(harness.sim.text(victim, "查询投诉进度"))
    response = await harness.post_raw(dict(params, openid=worker), body)
    assert response.status == 403 and harness.bot.received == []


# -- a worker waiting for a person ---------------------------------------------------------------
async def test_a_waiting_worker_hears_the_message_arrived_and_staff_replies_carry_the_name(
        harness: Harness, fake_api: FakeWeChatApi) -> None:
    user = _user()
    sender = harness.channel.sender_id(user)
    AccountService(harness.store.db).add("li", "李干事")
    handoffs = HandoffService(harness.store.db)
    handoff = handoffs.open(HandoffRequest(sender, harness.channel.name(), "crisis", Priority.CRISIS))
    harness.bot.answers["有人吗？？腿很疼"] = harness.bot.answers["好疼"] = []  # the bot is paused
    assert await harness.say(user, "有人吗？？腿很疼") == replies()["handoff_waiting"].format(place=1)
    assert await harness.say(user, "好疼") is None  # at once again: nothing more
    handoffs.claim(handoff.id, "li")
    # A staff reply (Rasa passes the reply's metadata with the text) starts with the name.
    output = harness.channel.get_output_channel()
    await output.send_response(sender, {"text": "我是工会的李干事，马上联系你", "staff": True,
                                        "staff_name": "李干事", "staff_message_id": 7})
    await output.send_response(sender, {"text": "工会的李干事已接入", "notice": True, "staff_message_id": 8})
    assert fake_api.messages_to(user) == ["【工会 李干事】我是工会的李干事，马上联系你", "工会的李干事已接入"]


# -- a calculation: the conclusion, then its details when the worker replies "依据" -------------------
def _calculation() -> list[dict]:
    """What action_calculate sends for "干了三年，月薪一万，被辞退" (劳动合同法 第47条: N = 3 months, 30000)."""
    from datetime import date

    from bot.knowledge.calc import economic_compensation, render_parts

    parts = render_parts(economic_compensation(36, 10000, cause="lawful", today=date(2026, 12, 6)))
    return [{"text": parts.conclusion, "custom": {"topic": "dismissal_compensation", **parts.payload()}},
            {"text": "数字说错了可以直接告诉我改正。", "buttons": [{"title": "我要投诉", "payload": "/file_complaint"},
                                                       {"title": "转人工", "payload": "/request_human"}]}]


CALCULATE = "干了三年月薪一万被辞退能拿多少"


async def test_a_calculation_sends_its_conclusion_and_yiju_its_working(harness: Harness) -> None:
    harness.bot.answers[CALCULATE] = _calculation()
    details = harness.bot.answers[CALCULATE][0]["custom"]["details"]["text"]
    user = _user()
    reply = await harness.say(user, CALCULATE)
    assert reply.startswith("帮你算好了（经济补偿计算）：\n经济补偿（N）：3个月 × 10000元 = 30000元。\n"
                            + replies()["wechat_details_hint"] + "\n\n")
    assert "月工资应按" not in reply and "《劳动合同法》" not in reply and "1. 我要投诉" in reply
    assert await harness.say(user, "依据") == details  # the working and the statutes, in full
    assert "1. 月工资应按解除或终止合同前12个月的平均工资" in details and "《劳动合同法》第47条" in details
    assert await harness.say(user, "查看依据。") == details
    assert harness.bot.texts == [CALCULATE]  # the channel answered "依据": the model was not asked
    await harness.say(user, "2")  # the options shown with the calculation still count
    assert harness.bot.texts[-1] == "/request_human"


async def test_yiju_gives_only_the_proven_senders_own_details(harness: Harness) -> None:
    harness.bot.answers[CALCULATE] = _calculation()
    worker, other = _user(), _user()
    await harness.say(worker, CALCULATE)
    assert await harness.say(other, "依据") == replies()["wechat_details_none"]  # nothing of the worker's
    # Claiming to be the worker without WeChat's signature gets nothing.
    params, body = harness.sim.signed(harness.sim.text(worker, "依据"))
    key = "msg_signature" if harness.sim.crypto is not None else "signature"
    forged = await harness.post_raw(dict(params, **{key: "0" * 40}), body)
    assert forged.status == 403 and "30000" not in forged.text and "《劳动合同法》" not in forged.text


async def test_yiju_with_nothing_kept_or_kept_too_long_gets_a_short_answer(harness: Harness) -> None:
    user = _user()
    assert await harness.say(user, "依据") == replies()["wechat_details_none"]
    assert harness.bot.texts == []
    harness.bot.answers[CALCULATE] = _calculation()
    await harness.say(user, "你好")  # an answer without details keeps nothing
    assert await harness.say(user, "依据") == replies()["wechat_details_none"]
    await harness.say(user, CALCULATE)
    await harness.say(user, "你好")  # a later answer without details keeps the calculation's
    assert "《劳动合同法》第47条" in await harness.say(user, "依据")
    sender = harness.bot.received[0].sender_id
    with harness.store.db.transaction() as session:
        session.query(ChannelUser).filter_by(sender_id=sender).one().details_at -= timedelta(hours=25)
    assert await harness.say(user, "依据") == replies()["wechat_details_none"]
    assert harness.store.purge_details(timedelta(hours=24)) == 1  # and then not kept at all
    with harness.store.db.transaction() as session:
        assert session.query(ChannelUser).filter_by(sender_id=sender).one().details is None
    await harness.say(user, "辞退的依据是什么")  # a question about 依据 goes to the model
    assert harness.bot.texts[-1] == "辞退的依据是什么"


async def test_details_longer_than_one_message_go_through_the_api(store_url: str, fake_api: FakeWeChatApi) -> None:
    harness = _harness("wechat", fake_api.url)
    paragraph = "依照劳动合同法第四十七条，经济补偿按劳动者在本单位工作的年限，每满一年支付一个月工资的标准向劳动者支付。"
    long_details = "\n".join([paragraph] * 40)
    harness.bot.answers["算"] = [{"text": "帮你算好了：30000元。", "custom": {"details": {"text": long_details}}}]
    user = _user()
    assert await harness.say(user, "算") == "帮你算好了：30000元。\n" + replies()["wechat_details_hint"]
    assert await harness.say(user, "依据") is None  # acknowledged; the pieces go through the API
    pieces = await sent_through_api(fake_api, user)
    assert len(pieces) > 1 and "\n".join(pieces) == long_details
