"""The REST channel's guard on a running stack: bad requests, empty messages, the per-sender limit."""
from __future__ import annotations

import uuid

import requests

from bot.channels.common import replies
from tests.conftest import Stack


def post(stack: Stack, body: object = None, data: bytes | None = None) -> requests.Response:
    return requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, data=data, timeout=60,
                         headers=None if data is None else {"Content-Type": "application/json"})


def test_malformed_requests_get_a_400_that_says_what_is_expected(servers: Stack):
    for body in (None, [1, 2], {"message": "你好"}, {"sender": 5, "message": "你好"},
                 {"sender": "a" * 500, "message": "你好"}, {"sender": "x", "message": {"text": "你好"}}):
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
    assert servers.user_texts(sender) == []


def test_a_sender_over_the_limit_is_told_to_slow_down_and_nothing_else_is_lost(servers: Stack):
    sender, other = uuid.uuid4().hex, uuid.uuid4().hex
    statuses = [post(servers, {"sender": sender, "message": f"第{i}个问题：加班费怎么算"}) for i in range(30)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "30 messages in a few seconds should exceed the burst of 20"
    assert limited[0].json()[0]["text"] == replies()["rate_limited"]
    answered = [f"第{i}个问题：加班费怎么算" for i, r in enumerate(statuses) if r.status_code == 200]
    assert servers.user_texts(sender) == answered  # every answered message stored once, none of the refused
    assert post(servers, {"sender": other, "message": "年假有几天"}).status_code == 200


def test_a_client_cannot_pose_as_another_channel(servers: Stack):
    sender = uuid.uuid4().hex
    post(servers, {"sender": sender, "message": "你好", "input_channel": "socketio"})
    tracker = requests.get(f"{servers.rasa_url}/conversations/{sender}/tracker",
                           params={"token": servers.token}, timeout=30).json()
    assert tracker["latest_input_channel"] == "rest"
