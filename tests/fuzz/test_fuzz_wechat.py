"""Hostile input to the WeChat (plain mode) and WeCom (safe mode) webhooks of a real Rasa server.

WeChat's side is played by bot/testing/wechat.py's WeChatServerSim (wechatpy-built, signed and
in safe mode encrypted requests); late answers go to the session's FakeWeChatApi. What a user
(or an attacker) would notice:

- any request that is not correctly signed → 403 (400 when unreadable, 413 when too big),
  never a 5xx, nothing claimed in ``channel_inbox``, no user recorded, no reply;
- a correctly signed text message with any content → 200 and an answer (in the response, or
  through the customer-service API when slow or long); empty and over-long messages get the
  channel's own Chinese reply without reaching the model; anything else reaches the model once;
- the same message delivered again (WeChat's retries, or an attacker replaying a captured
  request) is processed once;
- a timestamp more than five minutes off → 403;
- DTDs, entities (XML bombs, XXE) → 400, and nothing read from disk or network.
"""
from __future__ import annotations

import time
import uuid
from typing import Iterator

import pytest
import requests
from hypothesis import assume, example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.channels.common import MAX_MESSAGE_CHARS, replies
from bot.channels.wechat_base import MAX_BODY_BYTES, MAX_CLOCK_SKEW_SECONDS
from bot.storage.db import Database
from bot.storage.models import ChannelInbox, ChannelUser
from bot.testing.wechat import FakeWeChatApi, WeChatServerSim
from tests.conftest import Stack, wechat_id
from tests.fuzz.conftest import (emoji_text, fuzz, hostile_text, injection_text, short_text, shown, unicode_text,
                                 xml_safe)

KINDS = ["wechat", "wecom"]


@pytest.fixture(scope="module")
def db(servers: Stack) -> Iterator[Database]:
    database = Database(servers.database_url)
    yield database
    database.dispose()


def _sim(stack: Stack, kind: str) -> WeChatServerSim:
    return stack.wechat(wecom=kind == "wecom")


def _openid() -> str:
    return f"o{uuid.uuid4().hex[:27]}"


def _sender(kind: str, openid: str) -> str:
    """Rasa's sender id for a WeChat user (an HMAC: Rasa never sees the openid)."""
    return wechat_id(kind, openid)


def _stored(db: Database) -> tuple[int, int]:
    """How many messages were claimed and users recorded, over both channels."""
    with db.transaction() as session:
        return (session.scalar(select(func.count()).select_from(ChannelInbox)),
                session.scalar(select(func.count()).select_from(ChannelUser)))


def _raw(sim: WeChatServerSim, params: dict, body: bytes, method: str = "POST",
         content_type: str = "text/xml") -> requests.Response:
    return requests.request(method, sim.webhook_url, params=params, data=body, timeout=60,
                            headers={"Content-Type": content_type})


def _answer(sim: WeChatServerSim, api: FakeWeChatApi, openid: str, response: requests.Response) -> str:
    """The bot's answer: the passive reply, or what reached the user through the API."""
    passive = sim.reply_text(response.text)
    if passive is not None:
        return passive
    deadline = time.monotonic() + 30
    while not api.messages_to(openid) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)  # the pieces of a long answer follow each other
    return "\n".join(api.messages_to(openid))


def _refused(response: requests.Response) -> None:
    assert response.status_code in (400, 403, 413), (response.status_code, response.text[:300])
    assert "<xml" not in response.text and "<Encrypt>" not in response.text  # no reply of any kind


# -- anything at all --------------------------------------------------------------------------------------
PARAM_NAMES = ["signature", "timestamp", "nonce", "openid", "encrypt_type", "msg_signature", "echostr"]
ODD_STAMPS = ["²", "١٢٣", "⁹⁹", "9" * 5000, "-1", "0", "1e9", " 1", "now", "now+1", "0x10", "１２３"]
params = st.dictionaries(st.sampled_from(PARAM_NAMES) | short_text,
                         st.one_of(st.sampled_from(ODD_STAMPS), hostile_text(600), st.integers().map(str),
                                   st.text("0123456789abcdef", min_size=40, max_size=40)),
                         max_size=8)
random_xml = st.builds(
    lambda fields: "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>",
    st.dictionaries(st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId",
                                     "Encrypt", "Event", "AgentID"]),
                    st.text(st.characters(codec="utf-8", exclude_characters="<&"), max_size=40), max_size=9))
bodies = st.one_of(st.binary(max_size=3000), random_xml.map(str.encode),
                   hostile_text(5000).map(lambda t: t.encode("utf-8")),
                   st.sampled_from([b"", b"<xml>", b"<xml/>", b"success", b"\x00" * 100, b"A" * (MAX_BODY_BYTES + 1)]))


@fuzz(1.5)
@given(kind=st.sampled_from(KINDS), method=st.sampled_from(["POST", "GET"]), params=params, body=bodies,
       content_type=st.sampled_from(["text/xml", "application/xml", "application/json", "text/plain",
                                     "application/octet-stream", "multipart/form-data; boundary=zz"]))
@example(kind="wechat", method="POST", params={"timestamp": "²", "nonce": "n", "signature": "0" * 40}, body=b"<xml/>",
         content_type="text/xml")
@example(kind="wechat", method="GET", params={"timestamp": "²", "nonce": "n", "signature": "0" * 40, "echostr": "e"},
         body=b"", content_type="text/xml")
@example(kind="wecom", method="POST", params={"timestamp": "9" * 5000, "nonce": "n", "msg_signature": "0" * 40},
         body=b"<xml/>", content_type="text/xml")
@example(kind="wecom", method="GET", params={"timestamp": "9" * 5000, "nonce": "n", "msg_signature": "0" * 40,
                                             "echostr": "e"}, body=b"", content_type="text/xml")
def test_unsigned_requests_are_refused_never_a_server_error(live: Stack, db: Database, kind: str, method: str,
                                                            params: dict, body: bytes, content_type: str) -> None:
    now = int(time.time())
    params = {k: {"now": str(now), "now+1": str(now + 1)}.get(v, v) for k, v in params.items()}
    before = _stored(db)
    response = _raw(_sim(live, kind), params, body, method, content_type)
    assert response.status_code < 500, (response.status_code, params, response.text[:200])
    _refused(response)
    assert _stored(db) == before


# -- forged signatures ---------------------------------------------------------------------------------------
FORGERIES = ["signature", "msg_signature", "nonce", "timestamp", "token", "drop", "encrypt"]


@fuzz()
@given(kind=st.sampled_from(KINDS), forgery=st.sampled_from(FORGERIES), text=hostile_text(3000),
       junk=st.text("0123456789abcdef", min_size=0, max_size=41) | short_text, shift=st.integers(1, 200))
def test_forged_signatures_are_refused_and_nothing_is_stored(live: Stack, db: Database, kind: str, forgery: str,
                                                             text: str, junk: str, shift: int) -> None:
    sim, openid = _sim(live, kind), _openid()
    xml = sim.text(openid, xml_safe(text))
    if forgery == "token":  # signed by someone who does not know the token
        sim = WeChatServerSim(sim.webhook_url, "not-the-token", sim.account_id, sim.aes_key, wecom=sim.wecom)
    params, body = sim.signed(xml)
    key = "msg_signature" if kind == "wecom" else "signature"
    if forgery in ("signature", "msg_signature"):
        assume(params.get(forgery) is not None and params[forgery] != junk)
        params[forgery] = junk
    elif forgery == "nonce":
        params["nonce"] = params["nonce"] + (junk or "x")
    elif forgery == "timestamp":
        params["timestamp"] = str(int(params["timestamp"]) - shift)  # inside the window, but not what was signed
    elif forgery == "drop":
        del params[key]
    elif forgery == "encrypt":
        if kind != "wecom":  # plain mode does not sign the body; forge the signature instead
            params[key] = junk
        else:
            start = body.index(b"<Encrypt>") + len(b"<Encrypt>") + 5
            body = body[:start] + (b"A" if body[start:start + 1] != b"A" else b"B") + body[start + 1:]
    before = _stored(db)
    response = _raw(sim, params, body)
    assert response.status_code == 403, (forgery, response.status_code, response.text[:200])
    _refused(response)
    assert _stored(db) == before
    assert live.user_texts(_sender(kind, openid)) == []


@fuzz(0.6)
@given(echo=hostile_text(500).map(xml_safe), forged=st.booleans())
def test_url_handshake_echoes_only_for_a_valid_signature(live: Stack, echo: str, forged: bool) -> None:
    sim = _sim(live, "wechat")
    params = sim.handshake_params(echo)
    if forged:
        params["signature"] = "0" * 40
    response = requests.get(sim.webhook_url, params=params, timeout=30)
    if len(response.request.url) > 8000:  # longer than any URL WeChat sends: the server may refuse it
        assert response.status_code in (403, 413, 414) or (response.status_code == 200 and not forged)
        return
    if forged:
        assert response.status_code == 403 and (not echo or response.text != echo)
    elif echo:
        assert response.status_code == 200 and response.text == echo
        assert response.headers["Content-Type"].startswith("text/plain")  # never rendered as a page
    else:
        assert response.status_code == 400


# -- correctly signed messages with any text --------------------------------------------------------------
@fuzz(1.5)
@given(kind=st.sampled_from(KINDS), text=hostile_text().map(xml_safe))
@example(kind="wechat", text="")
@example(kind="wecom", text="  \n ")
@example(kind="wechat", text="😀👨‍👩‍👧‍👦🇨🇳")
@example(kind="wecom", text="欠" * (MAX_MESSAGE_CHARS + 1))
@example(kind="wechat", text="欠" * 40_000)
@example(kind="wechat", text="工资" * 50_000)
@example(kind="wechat", text="'; DROP TABLE complaints; --")
@example(kind="wecom", text="<script>alert(1)</script>")
@example(kind="wechat", text="]]><MsgType>event</MsgType><Event>subscribe</Event>")
def test_signed_text_gets_a_sane_answer_and_reaches_the_model_once(live: Stack, fake_wechat_api: FakeWeChatApi,
                                                                  kind: str, text: str) -> None:
    sim, openid = _sim(live, kind), _openid()
    params, body = sim.signed(sim.text(openid, text))
    response = _raw(sim, params, body)
    if len(body) > MAX_BODY_BYTES:
        assert response.status_code == 413
        assert live.user_texts(_sender(kind, openid)) == []
        return
    assert response.status_code == 200, (response.status_code, response.text[:300])
    answer = _answer(sim, fake_wechat_api, openid, response)
    assert answer.strip(), "a worker's message got no answer"
    assert answer not in (replies()["wechat_error"], replies()["wechat_storage_down"]), answer
    recorded = live.user_texts(_sender(kind, openid))
    delivered = shown(text)
    if not delivered:
        assert (answer, recorded) == (replies()["empty_message"], [])
    elif len(delivered) > MAX_MESSAGE_CHARS:
        assert (answer, recorded) == (replies()["message_too_long"], [])
    elif delivered.startswith("/"):
        assert len(recorded) <= 1  # Rasa reads "/intent" as a button payload: not asserted
    else:
        assert recorded == [delivered]


# -- the same message twice ------------------------------------------------------------------------------
@fuzz(0.8)
@given(kind=st.sampled_from(KINDS),
       text=st.one_of(unicode_text, emoji_text, injection_text, st.sampled_from(["加班费怎么算", "1", "转人工"]))
       .map(xml_safe).filter(lambda t: shown(t) and not shown(t).startswith("/")))
def test_a_replayed_message_is_processed_once(live: Stack, fake_wechat_api: FakeWeChatApi, kind: str,
                                              text: str) -> None:
    sim, openid = _sim(live, kind), _openid()
    xml = sim.text(openid, text, msg_id=sim.new_msg_id())
    params, body = sim.signed(xml)
    first = _raw(sim, params, body)
    replayed = _raw(sim, params, body)  # byte for byte the same request
    resigned = _raw(sim, *sim.signed(xml))  # WeChat's retry: same MsgId, new timestamp and nonce
    assert [r.status_code for r in (first, replayed, resigned)] == [200, 200, 200]
    assert len({sim.reply_text(r.text) for r in (first, replayed, resigned)}) == 1
    _answer(sim, fake_wechat_api, openid, first)
    expected = [] if len(shown(text)) > MAX_MESSAGE_CHARS else [shown(text)]
    assert live.user_texts(_sender(kind, openid)) == expected


# -- old (or future) timestamps ------------------------------------------------------------------------------
@fuzz(0.8)
@given(kind=st.sampled_from(KINDS), skew=st.integers(MAX_CLOCK_SKEW_SECONDS + 10, 10 ** 9),
       future=st.booleans(), text=st.sampled_from(["你好", "老板拖欠工资怎么办", "😀"]))
@example(kind="wechat", skew=MAX_CLOCK_SKEW_SECONDS + 10, future=False, text="你好")
@example(kind="wecom", skew=3600, future=False, text="你好")
def test_a_stale_timestamp_is_refused(live: Stack, db: Database, kind: str, skew: int, future: bool,
                                      text: str) -> None:
    sim, openid = _sim(live, kind), _openid()
    stamp = int(time.time()) + (skew if future else -skew)
    assume(stamp > 0)
    before = _stored(db)
    response = _raw(sim, *sim.signed(sim.text(openid, text), timestamp=stamp))
    assert response.status_code == 403, (response.status_code, response.text[:200])
    _refused(response)
    assert _stored(db) == before
    assert live.user_texts(_sender(kind, openid)) == []


# -- XML attacks -------------------------------------------------------------------------------------------
def _message(head: str, content: str, to: str, user: str) -> str:
    return (f'{head}<xml><ToUserName>{to}</ToUserName><FromUserName>{user}</FromUserName>'
            f'<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType><Content>{content}</Content>'
            f'<MsgId>{uuid.uuid4().int % 10 ** 18}</MsgId></xml>')


LAUGHS = ('<!DOCTYPE xml [<!ENTITY l0 "lol">'
          + "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10)) + "]>")
# (DOCTYPE, content): every one of them must be refused before any entity is expanded or fetched.
ATTACKS = {
    "billion-laughs": (LAUGHS, "&l9;"),
    "quadratic-blowup": ('<!DOCTYPE xml [<!ENTITY a "' + "a" * 50_000 + '">]>', "&a;" * 3000),
    "xxe-file": ('<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
    "xxe-http": ('<!DOCTYPE xml [<!ENTITY x SYSTEM "{api}/cgi-bin/token?appid=xxe">]>', "&x;"),
    "parameter-entity": ('<!DOCTYPE xml [<!ENTITY % p SYSTEM "{api}/xxe.dtd"> %p;]>', "x"),
    "external-dtd": ('<!DOCTYPE xml SYSTEM "{api}/xxe.dtd">', "x"),
    "internal-entity": ('<!DOCTYPE xml [<!ENTITY name "张三">]>', "&name;"),
    "doctype-only": ("<!DOCTYPE xml>", "x"),
}


@fuzz(0.8)
@given(kind=st.sampled_from(KINDS), attack=st.sampled_from(sorted(ATTACKS)), outer=st.booleans())
def test_dtds_and_entities_are_refused_unread(live: Stack, db: Database, fake_wechat_api: FakeWeChatApi,
                                             kind: str, attack: str, outer: bool) -> None:
    sim, openid = _sim(live, kind), _openid()
    head, content = ATTACKS[attack]
    head = head.replace("{api}", fake_wechat_api.url)
    before = _stored(db)
    if kind == "wecom" and outer:  # the attack in the envelope around a correctly signed Encrypt
        params, body = sim.signed(sim.text(openid, "你好"))
        body = head.encode() + body
    else:  # the attack in the message itself (inside the AES envelope for WeCom)
        params, body = sim.signed(_message(head, content, sim.account_id, openid))
    started = time.monotonic()
    response = _raw(sim, params, body)
    assert response.status_code == 400, (attack, response.status_code, response.text[:200])
    _refused(response)
    assert time.monotonic() - started < 5, "the parser took too long: an entity was expanded"
    assert "root:" not in response.text and "lol" not in response.text and "张三" not in response.text
    assert _stored(db) == before
    assert live.user_texts(_sender(kind, openid)) == []
