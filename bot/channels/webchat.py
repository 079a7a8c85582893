"""Socket.io channel for the web chat page.

Rasa 3.6's ``SocketIOInput`` calls ``sio.enter_room()`` without ``await`` when
``session_persistence`` is on; python-socketio >= 5.10 made it a coroutine, so the
socket never joins its session room and replies never arrive (RasaHQ/rasa#13027).
This subclass registers a ``session_request`` handler that awaits it, and answers
empty or oversized messages plainly instead of passing them to the model. A session
id must be an unguessable uuid4 hex (as the page gets from us); any other value gets a
new id, so nobody joins another worker's conversation by sending "1".

In a cluster (``REDIS_URL`` set) the socket.io servers of all Rasa servers share Redis as
their message queue: a staff reply sent through any Rasa server's HTTP API reaches the
worker's socket, whichever server holds it. Each message also passes the per-sender rate
limit, and a failed turn is answered with ``system_busy`` (see bot/channels/rest.py).
"""
from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels.common import as_words, problem_with, replies
from bot.channels.ratelimit import limiter
from bot.channels.rest import guard_turns

logger = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"[0-9a-f]{32}")


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with working session persistence."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(guard_turns(on_new_message))
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()
        _share_through_redis(sio)

        async def session_request(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("socket %s joined session %s", sid, session_id)

        async def user_uttered(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            text = data.get("message")
            problem = problem_with(text)
            room = data.get("session_id") if self.session_persistence else sid
            if problem is None and not await limiter().allow(f"socketio:{room or sid}"):
                problem = replies()["rate_limited"]
            if problem is None:
                await parent_handler(sid, {**data, "message": as_words(text)})
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            await output.send_text_message(room or sid, problem)

        handlers = sio.handlers.setdefault(self.namespace or "/", {})
        parent_handler = handlers[self.user_message_evt]
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_uttered, namespace=self.namespace)
        return webhook


def _share_through_redis(sio: Any) -> None:
    """Use Redis as the socket.io message queue when the settings name one (cluster mode)."""
    from bot.config import load_settings

    url = load_settings().redis_url
    if not url:
        return
    import socketio

    manager = socketio.AsyncRedisManager(url, channel="niangjia-socketio")
    manager.set_server(sio)
    sio.manager = manager
