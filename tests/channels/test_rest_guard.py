"""The REST channel's guard on a running stack: the bearer token, its own sender namespace, bad
requests, empty messages, the per-sender limit."""
from __future__ import annotations

import uuid

import requests

from bot.channels.common import replies
from tests.conftest import REST_AUTH, Stack, rest_id


def post(stack: Stack, body: object = None, data: bytes | None = None, channel: str = "rest",
         auth: dict[str, str] | None = REST_AUTH, path: str = "webhook") -> requests.Response:
    headers = {**(auth or {}), **({} if data is None else {"Content-Type": "application/json"})}
    return requests.post(f"{stack.rasa_url}/webhooks/{channel}/{path}", json=body, data=data, timeout=60,
                         headers=headers)


def test_without_the_token_nothing_is_processed(servers: Stack):
    sender = uuid.uuid4().hex
    for channel in ("rest", "callback"):
        for auth in (None, {"Authorization": "Bearer wrong-token"}, {"Authorization": REST_AUTH["Authorization"][7:]}):
            for path in ("webhook", "webhook/", "webhook//"):  # Sanic routes a trailing slash to the webhook too
                response = post(servers, {"sender": sender, "message": "查询投诉进度"}, channel=channel, auth=auth,
                                path=path)
                assert response.status_code in (401, 404), (channel, auth, path)
                if response.status_code == 401:
                    assert "没有权限" in response.json()["message"]
            response = post(servers, {"sender": sender, "message": "查询投诉进度"}, channel=channel, auth=auth)
            assert response.status_code == 401, (channel, auth)
            assert "没有权限" in response.json()["message"]
    assert servers.user_texts(rest_id(sender)) == [] and servers.user_texts(rest_id(sender, "callback")) == []


def test_a_rest_client_cannot_reach_a_web_chat_or_wechat_conversation(servers: Stack):
    """The attack: POST another channel's sender id (a web-chat session, a WeChat hash) with the token."""
    victim = uuid.uuid4().hex  # a web-chat session id
    assert post(servers, {"sender": rest_id("setup"), "message": "你好"}).status_code == 200
    requests.post(f"{servers.rasa_url}/conversations/{victim}/tracker/events", params={"token": servers.token},
                  json=[{"event": "user", "text": "我要投诉", "parse_data": {"intent": {"name": "file_complaint"}},
                         "input_channel": "socketio"}], timeout=30).raise_for_status()
    before = servers.events(victim)
    for forged in (victim, f"wechat_{victim}", "socketio:" + victim):
        answer = post(servers, {"sender": forged, "message": "删除我的数据"})
        assert answer.status_code == 200
        assert all(m["recipient_id"] == rest_id(forged) for m in answer.json())
        assert servers.user_texts(rest_id(forged)) == ["删除我的数据"]  # the client's own conversation
    assert post(servers, {"sender": victim, "message": "确认删除"}).status_code == 200
    assert servers.events(victim) == before  # the victim's conversation has no new event


def test_malformed_requests_get_a_400_that_says_what_is_expected(servers: Stack):
    for body in (None, [1, 2], {"message": "你好"}, {"sender": 5, "message": "你好"},
                 {"sender": "a" * 500, "message": "你好"}, {"sender": "x", "message": {"text": "你好"}},
                 # not URL-safe: staff replies address the conversation by URL, and Rasa does not decode
                 # "%XX", so "张三" would be answered in the conversation of "%E5%BC%A0%E4%B8%89"
                 {"sender": "张三", "message": "你好"}, {"sender": "a b", "message": "你好"},
                 {"sender": "a/b", "message": "你好"}, {"sender": "%E5%BC%A0", "message": "你好"}):
        response = post(servers, body)
        assert response.status_code == 400, body
        assert response.json()["message"] == replies()["bad_request"]
    assert post(servers, data=b"{not json").status_code == 400
    assert post(servers, data=b"\xff\xfe\x00binary").status_code == 400


def test_empty_and_oversized_messages_are_answered_without_reaching_the_model(servers: Stack):
    sender = uuid.uuid4().hex
    assert post(servers, {"sender": sender, "message": "   "}).json()[0]["text"] == replies()["empty_message"]
    too_long = post(servers, {"sender": sender, "message": "欠薪" * 1500}).json()
    assert too_long[0]["text"] == replies()["message_too_long"]
    assert servers.user_texts(rest_id(sender)) == []


def test_a_sender_over_the_limit_is_told_to_slow_down_and_nothing_else_is_lost(servers: Stack):
    sender, other = uuid.uuid4().hex, uuid.uuid4().hex
    statuses = [post(servers, {"sender": sender, "message": f"第{i}个问题：加班费怎么算"}) for i in range(30)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "30 messages in a few seconds should exceed the burst of 20"
    assert limited[0].json()[0]["text"] == replies()["rate_limited"]
    answered = [f"第{i}个问题：加班费怎么算" for i, r in enumerate(statuses) if r.status_code == 200]
    assert servers.user_texts(rest_id(sender)) == answered  # every answered message stored once, none of the refused
    assert post(servers, {"sender": other, "message": "年假有几天"}).status_code == 200


def test_a_client_cannot_pose_as_another_channel(servers: Stack):
    sender = uuid.uuid4().hex
    post(servers, {"sender": sender, "message": "你好", "input_channel": "socketio"})
    tracker = requests.get(f"{servers.rasa_url}/conversations/{rest_id(sender)}/tracker",
                           params={"token": servers.token}, timeout=30).json()
    assert tracker["latest_input_channel"] == "rest"
