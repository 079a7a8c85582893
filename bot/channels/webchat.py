"""Socket.io channel for the web chat page.

Rasa 3.6's ``SocketIOInput`` calls ``sio.enter_room()`` without ``await`` when
``session_persistence`` is on; python-socketio >= 5.10 made it a coroutine, so the
socket never joins its session room and replies never arrive (RasaHQ/rasa#13027).
This subclass registers a ``session_request`` handler that awaits it, and answers
empty or oversized messages plainly instead of passing them to the model. A session
id must be an unguessable uuid4 hex (as the page gets from us); any other value gets a
new id, so nobody joins another worker's conversation by sending "1". The sender of every
message is the session the socket joined, never a ``session_id`` the client puts in it.

Staff replies (a handoff) go out as one ``bot_uttered`` carrying ``staff_message_id`` and the
staff member's name (a notice such as "工会的李干事已接入" also carries ``notice``); the page
confirms each with ``staff_ack`` and only then is the reply delivered. Each time a socket joins
its session, every reply the page has not confirmed is sent again, oldest first (the page shows
each id once), so a closed page, a locked phone or a reconnecting socket loses nothing.

In a cluster (``REDIS_URL`` set) the socket.io servers of all Rasa servers share Redis as
their message queue: a staff reply sent through any Rasa server's HTTP API reaches the
worker's socket, whichever server holds it. Each message also passes the per-sender rate
limit, a failed turn is answered with ``system_busy`` (see bot/channels/rest.py), and a worker
waiting for a person is told their message arrived (bot/channels/waiting.py).
"""
from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels.common import as_words, problem_with, replies
from bot.channels.ratelimit import address_limiter, client_address, limiter
from bot.channels.rest import guard_turns
from bot.channels.waiting import acknowledging, handoff_store
from bot.storage.services import StaffReply

logger = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"[0-9a-f]{32}")
# Confirmations accepted in one staff_ack (a page never has more waiting).
MAX_ACK_IDS = 100


def staff_message(reply: StaffReply) -> dict[str, Any]:
    """A staff reply as the page receives it: one message, with the id the page confirms."""
    message = {"text": reply.text, "staff_message_id": reply.message_id, "staff_name": reply.staff_name}
    return {**message, "notice": True} if reply.notice else message


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output; a staff reply is sent whole, with its id and the sender's name, and
    a custom payload (``{"clarify": […]}``) as ``{"custom": …}`` (Rasa's own output passes its keys
    to ``emit`` as arguments, which fails the whole turn)."""

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        message_id = kwargs.get("staff_message_id")
        if not isinstance(message_id, int):
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        reply = StaffReply(message_id, text, str(kwargs.get("staff_name") or ""), notice=kwargs.get("notice") is True)
        await self._send_message(recipient_id, staff_message(reply))


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with working session persistence."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> SocketIOOutput | None:
        """The output Rasa's HTTP API uses for staff replies (``output_channel=latest``)."""
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        guarded = guard_turns(acknowledging(on_new_message))
        webhook = super().blueprint(guarded)
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()
        _share_through_redis(sio)

        # The session each socket joined: the only sender its messages can have.
        sessions: dict[str, str] = {}
        trusted_proxies = _trusted_proxies()

        def address(sid: str) -> str:
            request = (sio.get_environ(sid, namespace=self.namespace) or {}).get("sanic.request")
            if request is None:
                return "unknown"
            return client_address(request.ip, request.headers.get("x-forwarded-for"), trusted_proxies)

        async def session_request(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                previous = sessions.get(sid)
                if previous and previous != session_id:
                    await sio.leave_room(sid, previous, namespace=self.namespace)
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            sessions[sid] = session_id
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("socket %s joined session %s", sid, session_id)
            await resend_unconfirmed(sid, session_id)

        async def resend_unconfirmed(sid: str, session_id: str) -> None:
            try:
                waiting = await asyncio.to_thread(handoff_store().unacknowledged_replies,
                                                  session_id, self.name())
            except Exception as exc:  # the page gets them at its next connection
                logger.warning("unconfirmed staff replies not resent: %s", type(exc).__name__)
                return
            for reply in waiting:
                await sio.emit(self.bot_message_evt, staff_message(reply), room=sid, namespace=self.namespace)

        async def staff_ack(sid: str, data: dict | None) -> None:
            session_id = sessions.get(sid)
            ids = data.get("ids") if isinstance(data, dict) else None
            if session_id is None or not isinstance(ids, list):
                return
            ids = [i for i in ids[:MAX_ACK_IDS] if isinstance(i, int) and not isinstance(i, bool)]
            if not ids:
                return
            try:
                await asyncio.to_thread(handoff_store().acknowledge_replies, session_id, self.name(), ids)
            except Exception as exc:  # unconfirmed: sent again at the next connection
                logger.warning("staff reply confirmation not stored: %s", type(exc).__name__)

        async def user_uttered(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            text = data.get("message")
            problem = problem_with(text)
            sender = sessions.get(sid) if self.session_persistence else sid
            if sender is None:
                problem = replies()["session_missing"]
            elif problem is None and not (await limiter().allow(f"socketio:{sender}")
                                          and await limiter().allow(f"socketio-connection:{sid}")
                                          and await address_limiter().allow(f"socketio-address:{address(sid)}")):
                # Per session, per connection and (looser) per client address: new session ids or
                # new connections do not reset the count.
                problem = replies()["rate_limited"]
            if problem is None:
                metadata = data.get(self.metadata_key)
                await guarded(UserMessage(as_words(text), WebChatOutput(sio, self.bot_message_evt), sender,
                                          input_channel=self.name(),
                                          metadata=metadata if isinstance(metadata, dict) else {}))
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            await output.send_text_message(sender or sid, problem)

        async def disconnect(sid: str) -> None:
            sessions.pop(sid, None)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_uttered, namespace=self.namespace)
        sio.on("staff_ack", staff_ack, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        return webhook


def _trusted_proxies() -> int:
    from bot.config import load_settings

    return load_settings().web_trusted_proxies


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
