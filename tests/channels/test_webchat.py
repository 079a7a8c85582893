"""The web chat channel delivers replies with session persistence on (RasaHQ/rasa#13027)."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import socketio

import uuid

from bot.channels.common import MAX_MESSAGE_CHARS, replies
from tests.conftest import ROOT, free_port, wait_for

SERVER = Path(__file__).with_name("echo_server.py")


@pytest.fixture
def echo_server(request):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(SERVER), str(port), request.param], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", 60, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
        await client.disconnect()
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
