"""A Sanic server exposing one socket.io channel whose bot echoes the user.

Usage: python echo_server.py PORT {stock|ours}. Used by test_webchat.py to compare
Rasa's stock SocketIOInput with ours on a real socket.io connection.
"""
from __future__ import annotations

import sys

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Sanic
from sanic.response import json as json_response

from bot.channels.webchat import WebChatInput


def main() -> None:
    port, kind = int(sys.argv[1]), sys.argv[2]
    channel_class = WebChatInput if kind == "ours" else SocketIOInput
    channel = channel_class(session_persistence=True)

    async def on_new_message(message: UserMessage) -> None:
        if message.text == "按钮":  # an answer with buttons and a custom payload, as the ask-back sends
            await message.output_channel.send_response(message.sender_id, {
                "text": "你想问的是哪一个？", "buttons": [{"title": "工伤", "payload": "/work_injury"}],
                "custom": {"clarify": ["work_injury"]}})
            return
        await message.output_channel.send_text_message(message.sender_id, f"echo:{message.text}")

    app = Sanic(f"echo_{kind}")
    app.blueprint(channel.blueprint(on_new_message))

    @app.get("/ready")
    async def ready(_request):
        return json_response({"ok": True})

    app.run(host="127.0.0.1", port=port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
