"""The web chat channel delivers replies with session persistence on (RasaHQ/rasa#13027),
binds every message to the session its socket joined, and delivers staff replies until the
worker's page confirms them."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import socketio

from bot.channels.common import MAX_MESSAGE_CHARS, replies
from bot.storage.accounts import AccountService
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Handoff, Priority
from bot.storage.services import HandoffRequest, HandoffService
from tests.conftest import ROOT, free_port, wait_for

SERVER = Path(__file__).with_name("echo_server.py")
# The echo servers' limit per client address (the per-sender burst is 20).
ADDRESS_BURST = 25


@pytest.fixture
def echo_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'niangjia.db'}"
    upgrade(url)
    return url


@pytest.fixture
def echo_server(request, echo_db, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": echo_db, "NIANGJIA_VAR_DIR": str(tmp_path / "var"),
           "RATE_LIMIT_ADDRESS_BURST": str(ADDRESS_BURST), "RATE_LIMIT_ADDRESS_PER_MINUTE": "1"}
    proc = subprocess.Popen([sys.executable, str(SERVER), str(port), request.param], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", 60, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _hang_up(client: socketio.AsyncClient) -> None:
    """Close at once: with the polling transport a clean disconnect waits out the long poll (~30 s)."""
    await client.eio.disconnect(abort=True)
    for task in (client.eio.read_loop_task, client.eio.write_loop_task):
        if task is not None:
            task.cancel()


async def _exchange(url: str, messages: list[object], session_id: str | None = None,
                    confirmed_ids: list[str] | None = None) -> list[str]:
    """Connect, ask for ``session_id``, send ``messages``; return the bot texts received."""
    client = socketio.AsyncClient()
    received: list[str] = []
    confirmed = asyncio.Event()
    session_id = session_id or uuid.uuid4().hex
    ids = confirmed_ids if confirmed_ids is not None else []

    def on_confirm(confirmed_id: str) -> None:
        ids.append(confirmed_id)
        confirmed.set()

    client.on("session_confirm", on_confirm)
    client.on("bot_uttered", lambda data: received.append(data.get("text")))
    # polling: engineio's websocket client needs a newer aiohttp than rasa pins;
    # the browser test covers the websocket transport.
    await client.connect(url, transports=["polling"], socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), 10)
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": ids[-1]})
        for _ in range(30):
            if len(received) >= len(messages):
                break
            await asyncio.sleep(0.1)
    finally:
        await _hang_up(client)
    return received


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_reply_reaches_the_persistent_session(echo_server):
    assert await _exchange(echo_server, ["工资"]) == ["echo:工资"]


@pytest.mark.parametrize("echo_server", ["stock"], indirect=True)
async def test_stock_rasa_channel_loses_the_reply(echo_server):
    """Documents the upstream bug our subclass fixes: if this starts failing, Rasa fixed it."""
    assert await _exchange(echo_server, ["工资"]) == []


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_reload_keeps_the_same_session(echo_server):
    """A second connection (a page reload) with the stored session id gets its replies."""
    session = uuid.uuid4().hex
    await _exchange(echo_server, ["第一句"], session_id=session)
    confirmed: list[str] = []
    assert await _exchange(echo_server, ["第二句"], session_id=session,
                           confirmed_ids=confirmed) == ["echo:第二句"]
    assert confirmed == [session]


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_guessable_session_id_gets_a_fresh_one(echo_server):
    confirmed: list[str] = []
    assert await _exchange(echo_server, ["你好"], session_id="1", confirmed_ids=confirmed) == ["echo:你好"]
    assert confirmed[0] != "1" and len(confirmed[0]) == 32


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_empty_and_oversized_messages_get_a_plain_answer(echo_server):
    replies_ = await _exchange(echo_server, ["   ", "长" * (MAX_MESSAGE_CHARS + 1), None, "😀"])
    expected = replies()
    assert replies_ == [expected["empty_message"], expected["message_too_long"],
                        expected["empty_message"], "echo:😀"]


class Page:
    """A worker's chat page over socket.io: joins a session, confirms staff replies like chat.js."""

    def __init__(self, url: str, session_id: str, confirm: bool = True) -> None:
        self.url, self.session_id, self.confirm = url, session_id, confirm
        self.client = socketio.AsyncClient()
        self.received: list[dict] = []
        self.confirmed = asyncio.Event()
        self.client.on("session_confirm", lambda _id: self.confirmed.set())
        self.client.on("bot_uttered", self._on_message)

    async def _on_message(self, data: dict) -> None:
        self.received.append(data)
        if self.confirm and isinstance(data.get("staff_message_id"), int):
            await self.client.emit("staff_ack", {"ids": [data["staff_message_id"]]})

    async def __aenter__(self) -> "Page":
        await self.client.connect(self.url, transports=["polling"], socketio_path="/socket.io")
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(self.confirmed.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.5)  # let confirmations reach the server
        await _hang_up(self.client)

    async def wait(self, count: int) -> list[dict]:
        for _ in range(50):
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.1)
        return self.received


def _handoffs(url: str) -> HandoffService:
    """Handoffs on the echo server's database, with the staff member ``li`` (李干事)."""
    db = Database(url)
    AccountService(db).add("li", "李干事")
    return HandoffService(db)


def _staff_replies(url: str, sender: str, texts: list[str]) -> tuple[HandoffService, list[int]]:
    """A handoff of ``sender`` on the web chat, claimed, with ``texts`` replied while no page was open."""
    handoffs = _handoffs(url)
    handoff = handoffs.open(HandoffRequest(sender, "socketio", "requested",
                                           transcript=[("worker", "转人工", time.time())]))
    handoffs.claim(handoff.id, "li")
    ids = [handoffs.record_staff_reply(handoff.id, "li", text) for text in texts]
    return handoffs, ids


def _delivered(handoffs: HandoffService, sender: str) -> list[bool | None]:
    handoff = handoffs.queue()[0] if handoffs.queue() else None
    assert handoff is not None and handoff.sender_id == sender
    return [m.delivered for m in handoffs.get(handoff.id).messages if m.role == "staff"]


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_replies_written_while_the_page_was_closed_arrive_once_in_order(echo_server, echo_db):
    sender = uuid.uuid4().hex
    handoffs, ids = _staff_replies(echo_db, sender, ["你好，我是工会的李干事", "请把工资条拍照发给我们"])
    assert _delivered(handoffs, sender) == [None, None]

    async with Page(echo_server, sender) as page:
        received = await page.wait(2)
    assert [(m["text"], m["staff_message_id"], m["staff_name"]) for m in received] == [
        ("你好，我是工会的李干事", ids[0], "李干事"), ("请把工资条拍照发给我们", ids[1], "李干事")]
    assert _delivered(handoffs, sender) == [True, True]

    # Confirmed replies are not sent again when the page comes back.
    async with Page(echo_server, sender) as page:
        await asyncio.sleep(1)
    assert page.received == []


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_an_unconfirmed_reply_is_sent_again_at_the_next_connection(echo_server, echo_db):
    sender = uuid.uuid4().hex
    handoffs, ids = _staff_replies(echo_db, sender, ["我们明天联系你的单位"])
    async with Page(echo_server, sender, confirm=False) as page:  # the phone locked before confirming
        assert [m["staff_message_id"] for m in await page.wait(1)] == ids
    assert _delivered(handoffs, sender) == [None]
    async with Page(echo_server, sender) as page:
        assert [m["staff_message_id"] for m in await page.wait(1)] == ids
    assert _delivered(handoffs, sender) == [True]


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_nobody_receives_or_confirms_another_workers_replies(echo_server, echo_db):
    victim, attacker = uuid.uuid4().hex, uuid.uuid4().hex
    handoffs, ids = _staff_replies(echo_db, victim, ["你的投诉我们已经受理"])
    async with Page(echo_server, attacker) as page:
        await page.client.emit("staff_ack", {"ids": ids})  # confirming the victim's reply
        await asyncio.sleep(1)
    assert page.received == []
    assert _delivered(handoffs, victim) == [None]


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_a_message_goes_to_the_socket_own_session_whatever_session_id_it_names(echo_server):
    """socket.io: another worker's session_id in user_uttered reaches only the sender's own room."""
    victim = uuid.uuid4().hex
    async with Page(echo_server, victim) as victim_page, \
            Page(echo_server, uuid.uuid4().hex) as attacker_page:
        await attacker_page.client.emit("user_uttered", {"message": "查询投诉进度", "session_id": victim})
        attacker_received = await attacker_page.wait(1)
        await asyncio.sleep(0.5)
    assert [m.get("text") for m in attacker_received] == ["echo:查询投诉进度"]
    assert victim_page.received == []


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_asking_for_new_sessions_does_not_escape_the_rate_limit(echo_server):
    client = socketio.AsyncClient()
    received: list[str] = []
    confirmed: list[str] = []
    client.on("bot_uttered", lambda data: received.append(data.get("text")))
    client.on("session_confirm", lambda session: confirmed.append(session))
    await client.connect(echo_server, transports=["polling"], socketio_path="/socket.io")
    try:
        for n in range(30):  # a fresh session id before every message
            await client.emit("session_request", {"session_id": uuid.uuid4().hex})
            await client.emit("user_uttered", {"message": f"第{n}条"})
            await asyncio.sleep(0.05)  # the polling transport carries a bounded number of packets per request
        for _ in range(50):
            if len(received) >= 30:
                break
            await asyncio.sleep(0.1)
    finally:
        await _hang_up(client)
    assert len(set(confirmed)) == 30
    # The connection's burst is 20 (the address's 25 alone would refuse only 5).
    assert received.count(replies()["rate_limited"]) >= 9


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_new_connections_from_one_address_do_not_escape_the_limit(echo_server):
    answers: list[str] = []
    for n in range(ADDRESS_BURST + 5):  # each message from a new connection and a new session
        answers += await _exchange(echo_server, [f"第{n}条"])
    assert answers.count(replies()["rate_limited"]) >= 5


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_an_answer_with_buttons_and_a_custom_payload_reaches_the_page(echo_server):
    """Rasa's socket.io output passes a custom payload's keys to emit() and the turn fails."""
    async with Page(echo_server, uuid.uuid4().hex) as page:
        await page.client.emit("user_uttered", {"message": "按钮"})
        received = await page.wait(2)
    assert received[0]["text"] == "你想问的是哪一个？"
    assert [b["payload"] for b in received[0]["quick_replies"]] == ["/work_injury"]
    assert received[1] == {"custom": {"clarify": ["work_injury"]}}


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_a_worker_waiting_for_a_person_hears_that_the_message_arrived_now_and_then(echo_server, echo_db):
    sender = uuid.uuid4().hex
    handoffs = _handoffs(echo_db)
    handoffs.open(HandoffRequest("someone-else", "socketio", "requested"))
    handoff = handoffs.open(HandoffRequest(sender, "socketio", "crisis", Priority.CRISIS))
    async with Page(echo_server, sender) as page:
        await page.client.emit("user_uttered", {"message": "有人吗？？腿很疼"})
        first = [m["text"] for m in await page.wait(2)]
        await page.client.emit("user_uttered", {"message": "好疼"})  # at once again: no second one
        await asyncio.sleep(1)
        again = [m["text"] for m in page.received[2:]]
    assert first[0] == "echo:有人吗？？腿很疼"
    assert first[1] == replies()["handoff_waiting"].format(place=1)  # a crisis goes first
    assert "在这个对话里回复你" in first[1] and "12351" in first[1] and "120" in first[1]
    assert again == ["echo:好疼"]

    # Claimed: the staff member answers; the bot adds nothing.
    handoffs.claim(handoff.id, "li")
    with handoffs.db.transaction() as session:  # long enough ago for another acknowledgement
        session.get(Handoff, handoff.id).acknowledged_at -= timedelta(hours=1)
    async with Page(echo_server, sender) as page:
        await page.client.emit("user_uttered", {"message": "还在吗"})
        await asyncio.sleep(1.5)
    assert [m["text"] for m in page.received] == ["echo:还在吗"]


@pytest.mark.parametrize("echo_server", ["ours"], indirect=True)
async def test_the_claim_notice_reaches_a_page_that_was_closed_as_a_notice(echo_server, echo_db):
    sender = uuid.uuid4().hex
    handoffs = _handoffs(echo_db)
    handoff = handoffs.open(HandoffRequest(sender, "socketio", "requested"))
    _, notice = handoffs.claim_and_tell(handoff.id, "li", lambda name: f"工会的{name}已接入")
    async with Page(echo_server, sender) as page:
        received = await page.wait(1)
    assert received == [{"text": "工会的李干事已接入", "staff_message_id": notice.message_id,
                         "staff_name": "李干事", "notice": True}]
    assert handoffs.unacknowledged_replies(sender, "socketio") == []  # the page confirmed it
