"""Hostile input to the REST channel (/webhooks/rest/webhook, and the callback channel's twin)
of a real Rasa server: whatever arrives, the answer is never a 5xx and never a dead server.

What the channel does today (bot/channels/rest.py), and so what is asserted:
- not a JSON object with a non-empty string ``sender`` (≤ 128 characters) and a string (or
  missing) ``message`` → 400 with a JSON body whose ``message`` says so in Chinese;
- an empty / blank / missing message, or one over 2000 characters → 200 with the channel's
  own Chinese reply, and nothing passed to the model (the tracker has no user message);
- anything else → 200 with the bot's replies, the message recorded once in the tracker
  (as Rasa stores it: stripped of outer whitespace), or 429 with a reply when the sender is
  over the rate limit;
- a message starting with "/" is read by Rasa as an intent (button payloads work that way):
  the fuzz test does not assert its replies; two explicit tests say what a worker should see.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from bot.channels.common import MAX_MESSAGE_CHARS, replies
from bot.channels.rest import SENDER_PATTERN
from tests.conftest import REST_AUTH, Stack, rest_id
from tests.fuzz.conftest import (fuzz, hostile_text, injection_text, rasa_alive, revive, short_text,
                                 unicode_text)

CLEAN_REFUSALS = (400, 413, 429)


def _sender() -> str:
    return f"fuzz-{uuid.uuid4().hex}"


def _post(stack: Stack, body: bytes, path: str = "rest", params: dict | None = None,
          content_type: str = "application/json") -> requests.Response:
    return requests.post(f"{stack.rasa_url}/webhooks/{path}/webhook", data=body, params=params,
                         headers={"Content-Type": content_type, **REST_AUTH}, timeout=120)


def _readable(response: requests.Response) -> str:
    """The text a client can show for a refusal (JSON ``message``, or the reply's ``text``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, dict):
        return body.get("message") or ""
    return " ".join(m.get("text") or "" for m in body)


# -- any body ---------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | unicode_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["sender", "message", "metadata", "input_channel", "stream"]) | short_text, inner,
        max_size=5),
    max_leaves=20)
# Objects that look right at first sight: the fields the channel reads, of any type.
near_messages = st.fixed_dictionaries(
    {"sender": st.one_of(st.none(), st.integers(), unicode_text, st.lists(short_text, max_size=2)),
     "message": st.one_of(st.none(), st.integers(), st.booleans(), unicode_text, st.dictionaries(short_text, short_text,
                                                                                                 max_size=2))},
    optional={"input_channel": st.sampled_from(["socketio", "wechat", "rest", ""]) | short_text,
              "metadata": st.dictionaries(short_text, short_text | st.integers(), max_size=3)})
MALFORMED = [b"", b"{", b'{"sender":', b'{"sender":"a","message":"b"', b'{"sender":"a","message":"b"}garbage',
             b"[" * 5000, b'{"a":' * 3000, b"NaN", b"Infinity", b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00",
             b'{"sender":"a","sender":"b","message":"c"}', b"\x00" * 64, b"<xml/>", b"sender=a&message=b",
             b'{"sender":"a","message":"' + b"x" * 300_000 + b'"}']
bodies = st.one_of(json_values.map(lambda v: json.dumps(v).encode()),
                   near_messages.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
                   st.binary(max_size=2000), st.sampled_from(MALFORMED))


@fuzz()
@given(body=bodies, path=st.sampled_from(["rest", "callback"]),
       stream=st.sampled_from([None, "true", "false", "\u2603"]),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                     "multipart/form-data; boundary=x", "application/json; charset=gbk"]))
@example(body=b"[1, 2]", path="rest", stream=None, content_type="application/json")
@example(body=b"null", path="rest", stream=None, content_type="application/json")
@example(body=b'{"sender": "x", "message": ["a"]}', path="callback", stream=None, content_type="application/json")
def test_any_body_gets_an_answer_never_a_server_error(live: Stack, body: bytes, path: str, stream: str | None,
                                                      content_type: str) -> None:
    response = _post(live, body, path, params={"stream": stream} if stream else None, content_type=content_type)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code in CLEAN_REFUSALS:
        assert _readable(response).strip()


# -- well-formed messages with hostile text ---------------------------------------------------------------
@fuzz(1.5)
@given(text=hostile_text())
@example(text="")
@example(text="   \u3000\n")
@example(text="😀👨‍👩‍👧‍👦🇨🇳")
@example(text="欠" * MAX_MESSAGE_CHARS)
@example(text="欠" * (MAX_MESSAGE_CHARS + 1))
@example(text="工资" * 50_000)
@example(text="'; DROP TABLE complaints; --")
@example(text="1 OR 1=1")
@example(text="<script>alert(1)</script>")
@example(text="\"><img src=x onerror=alert(1)>")
@example(text="\x00\x01\x02\x7f\x80\x9f")
def test_hostile_text_is_answered_once_or_cleanly_refused(live: Stack, text: str) -> None:
    sender = _sender()
    response = _post(live, json.dumps({"sender": sender, "message": text}).encode())
    assert response.status_code in (200, *CLEAN_REFUSALS), (response.status_code, response.text[:300])
    if response.status_code != 200:
        assert _readable(response).strip()
        assert live.user_texts(rest_id(sender)) == []
        return
    answers = response.json()
    assert all(a.get("recipient_id") == rest_id(sender) for a in answers)
    if not text.strip().startswith("/"):  # "/intent" texts: see test_typing_a_rasa_command_gets_an_answer
        assert any((a.get("text") or "").strip() or a.get("buttons") or a.get("image") for a in answers)
    recorded = live.user_texts(rest_id(sender))
    if not text.strip():
        assert [a["text"] for a in answers] == [replies()["empty_message"]] and recorded == []
    elif len(text) > MAX_MESSAGE_CHARS:
        assert [a["text"] for a in answers] == [replies()["message_too_long"]] and recorded == []
    elif "\x00" in text:  # no database takes a NUL: the worker is asked to type again
        assert [a["text"] for a in answers] == [replies()["message_unreadable"]] and recorded == []
    elif text.strip().startswith("/"):
        # Rasa reads "/intent{...}" as a button payload (e.g. /restart empties the tracker): not asserted.
        assert len(recorded) <= 1
    else:
        assert recorded == [text.strip()], "the message must reach the model exactly once"
        assert replies()["system_busy"] not in [a.get("text") for a in answers], "a good message failed"


@fuzz(0.6)
@given(sender=st.one_of(unicode_text, injection_text, st.from_regex(r"[A-Za-z0-9_.~:-]{1,128}", fullmatch=True),
                        st.text(st.characters(codec="utf-8"), min_size=129, max_size=400)),
       text=st.sampled_from(["你好", "老板拖欠工资怎么办", "😀"]))
@example(sender="'; DROP TABLE events; --", text="你好")
@example(sender="<script>alert(1)</script>", text="你好")
@example(sender="a" * 129, text="你好")
@example(sender=" ", text="你好")
def test_any_sender_id_is_answered_or_refused(live: Stack, sender: str, text: str) -> None:
    response = _post(live, json.dumps({"sender": sender, "message": text}).encode())
    assert response.status_code in (200, *CLEAN_REFUSALS), (response.status_code, response.text[:300])
    if SENDER_PATTERN.fullmatch(sender) is None or len(sender) > 128:
        assert response.status_code == 400 and _readable(response)
    elif response.status_code == 200:
        assert response.json() and replies()["system_busy"] not in [a.get("text") for a in response.json()]


@pytest.mark.parametrize("metadata", ["x", [1, 2], 7, True], ids=["string", "list", "number", "bool"])
def test_metadata_that_is_not_an_object_is_refused_not_reported_as_a_breakdown(live: Stack, metadata) -> None:
    """A client's malformed request is the client's error: 400 (or ignored), never "系统暂时繁忙"."""
    sender = _sender()
    response = _post(live, json.dumps({"sender": sender, "message": "你好", "metadata": metadata}).encode())
    assert response.status_code < 500
    if response.status_code == 200:
        assert replies()["system_busy"] not in [a.get("text") for a in response.json()], \
            "a request with malformed metadata is answered as if the server were broken"
    else:
        assert response.status_code == 400 and _readable(response)


# -- text that Rasa reads as a command --------------------------------------------------------------------
# Rasa reads a message starting with "/" as an intent (that is how buttons send their payloads),
# so a worker can type "/restart" or "/greet" - or paste it without knowing what it is.
def _say(stack: Stack, sender: str, text: str) -> list[dict]:
    response = _post(stack, json.dumps({"sender": sender, "message": text}).encode())
    assert response.status_code == 200, response.text[:300]
    return response.json()


def test_typing_a_rasa_command_gets_an_answer(live: Stack) -> None:
    assert _say(live, _sender(), "/restart"), "a worker who types “/restart” is answered with silence"


def test_a_handed_off_conversation_stays_with_staff_whatever_the_worker_types(live: Stack) -> None:
    """While staff have the conversation (Rasa's pause) the bot says nothing, whatever arrives: the
    worker only hears, once per HANDOFF_ACK_MINUTES, that their message arrived and someone will answer."""
    sender = _sender()
    assert _say(live, sender, "转人工")
    heard = []
    for text in ("还在吗", "/greet", "/session_start", "/restart", "你好"):
        heard += [m.get("text") or "" for m in _say(live, sender, text)]
    assert len(heard) == 1 and heard[0].startswith("收到你的消息了"), f"the bot spoke during a handoff: {heard}"


# -- requests that used to take the server down ------------------------------------------------------------
# JSON may carry a lone UTF-16 surrogate ("\ud800"), which Python decodes into a str that cannot
# be encoded for the database; a NUL is refused by PostgreSQL. Rasa's SQL tracker store turns
# any ValueError inside its session into sys.exit(1).
KILLERS = {
    "surrogate-sender": b'{"sender": "fuzz-\\ud800", "message": "\xe4\xbd\xa0\xe5\xa5\xbd"}',
    "surrogate-message": b'{"sender": "fuzz-surrogate-message", "message": "\\udfff\xe4\xbd\xa0\xe5\xa5\xbd"}',
    "nul-sender": b'{"sender": "fuzz-\\u0000x", "message": "\xe4\xbd\xa0\xe5\xa5\xbd"}',
}


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("body", list(KILLERS.values()), ids=list(KILLERS))
def test_unencodable_text_is_refused_and_the_server_stays_up(request: pytest.FixtureRequest, engine: str,
                                                             body: bytes) -> None:
    stack: Stack = request.getfixturevalue("servers" if engine == "sqlite" else "servers_pg")
    try:
        try:
            response = _post(stack, body)
        except requests.ConnectionError:
            response = None
        time.sleep(1)  # a dying server may still answer /status for a moment
        assert response is not None and rasa_alive(stack), \
            "one request killed the Rasa server (sys.exit in Rasa's SQLTrackerStore)"
        assert response.status_code in (200, 400), response.text[:300]
        if response.status_code == 200:
            assert replies()["system_busy"] not in [a.get("text") for a in response.json()], \
                "malformed text is answered as if the server were broken"
        assert _post(stack, json.dumps({"sender": _sender(), "message": "你好"}).encode()).status_code == 200
    finally:
        revive(stack)
