"""Web chat in a cluster: a staff reply reaches the worker's socket whichever Rasa server sends it."""
from __future__ import annotations

import asyncio
import uuid

import requests
import socketio

from bot.cluster.cluster import Cluster
from bot.rasa_client import RasaClient


async def _chat_and_receive_staff_replies(cluster: Cluster) -> list[str]:
    client, received, confirmed = socketio.AsyncClient(), [], asyncio.Event()
    session: list[str] = []
    client.on("session_confirm", lambda sid: (session.append(sid), confirmed.set()))
    client.on("bot_uttered", lambda data: received.append(data.get("text") or ""))
    # polling: engineio's websocket client needs a newer aiohttp than rasa pins.
    await client.connect(cluster.public_url, transports=["polling"], socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": uuid.uuid4().hex})
        await asyncio.wait_for(confirmed.wait(), 10)
        await client.emit("user_uttered", {"message": "你好", "session_id": session[-1]})
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.1)
        assert received, "the bot did not answer through nginx"
        # A staff member's reply goes through the Rasa HTTP API of either server.
        for index, port in enumerate(cluster.layout.rasa_ports):
            client_api = RasaClient(f"http://127.0.0.1:{port}", cluster.token)
            await asyncio.to_thread(client_api.send_bot_message, session[-1], f"工会李干事回复{index}")
        for _ in range(100):
            if all(any(f"工会李干事回复{i}" in t for t in received) for i in range(len(cluster.layout.rasa_ports))):
                break
            await asyncio.sleep(0.1)
    finally:
        await client.disconnect()
    return received


def test_staff_replies_sent_through_any_rasa_server_reach_the_worker(healthy: Cluster):
    received = asyncio.run(_chat_and_receive_staff_replies(healthy))
    for index in range(len(healthy.layout.rasa_ports)):
        assert any(f"工会李干事回复{index}" in text for text in received), received


def test_the_per_sender_limit_holds_across_rasa_servers(healthy: Cluster):
    sender = uuid.uuid4().hex
    codes = [requests.post(f"{healthy.public_url}/webhooks/rest/webhook", headers=healthy.rest_auth,
                           json={"sender": sender, "message": f"第{i}次：年假有几天"}, timeout=60).status_code
             for i in range(26)]
    # Round robin spreads these over both servers; the burst of 20 is counted once, in Redis.
    assert codes[:20] == [200] * 20 and 429 in codes[20:], codes
